/**
 * Assessment exports of KPI roll-ups (CSV, XLSX, JSON), the verifier consistency report, and the
 * manual-input sheet parser and template. Pure functions: no I/O besides the buffers they return.
 */

export {
  consistencyReport,
  isPercentEntry,
  NOT_REPORTED_LIMIT,
  ORDER_RULES,
  type OrderRule,
  SUM_RULES,
  type SumRule,
  type ValueRef,
} from './consistency.ts';
export { CSV_COLUMNS, toCsv } from './csv-export.ts';
export {
  ROLLUP_JSON_KIND,
  ROLLUP_JSON_SCHEMA_VERSION,
  type RollupDocument,
  type RollupDocumentInput,
  rollupDocumentSchema,
  toJson,
} from './json-export.ts';
export {
  MANUAL_SHEET_MAX_BYTES,
  MANUAL_SHEET_MAX_ROWS,
  type ManualSheetError,
  type ManualSheetResult,
  type ManualSheetRow,
  parseManualSheet,
} from './manual-sheet.ts';
export { MANUAL_SHEET_COLUMNS, type ManualSheetErrorCode, REQUIRED_COLUMNS } from './manual-sheet-fields.ts';
export { manualSheetTemplate } from './manual-sheet-template.ts';
export {
  type ConsistencyFinding,
  DATA_QUALITY_LABELS,
  parseDataQuality,
  type RollupEntry,
  type RollupSource,
  sortEntries,
} from './rollup-entry.ts';
export { type ScoreRow, toXlsx, VALUES_COLUMNS, XLSX_SHEETS, type XlsxExportInput } from './xlsx-export.ts';
export { BAND_FILLS } from './xlsx-style.ts';
