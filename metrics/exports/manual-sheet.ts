import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import type { DataQuality } from '../kpi-types.ts';
import {
  type Cell,
  MANUAL_SHEET_COLUMNS,
  type ManualSheetColumn,
  type ManualSheetErrorCode,
  type RawRow,
  REQUIRED_COLUMNS,
  validateRow,
} from './manual-sheet-fields.ts';
import { checkXlsxArchive } from './xlsx-archive-guard.ts';

/**
 * Reads a sheet of manual KPI values (CSV or XLSX) that an analyst filled in, and validates every row.
 * Nothing is thrown for bad input: every problem is an error naming the row as a spreadsheet shows it
 * (header = row 1; comment and blank lines count as rows, as they do when the file is opened) and the
 * column. `rows` holds only the valid rows; the caller refuses the sheet when `errors` is not empty
 * (METRICS_IMPORT_INVALID: nothing is imported from a sheet with bad rows).
 */

export type ManualSheetRow = {
  /** the row number as the user sees it (header = 1) */
  row: number;
  /** official code */
  code: string;
  /** as the catalogue names it; absent for a KPI with a single data point (its value is the KPI's) */
  dataPoint?: string;
  /** `YYYY`, `YYYY-MM` or `YYYY-Qn` */
  period: string;
  value: number;
  /** the catalogue's unit */
  unit: string;
  dataQuality: DataQuality;
  source: string;
  evidence?: string;
};

export type ManualSheetError = { row: number; column: string; code: ManualSheetErrorCode; message: string };
export type ManualSheetResult = { rows: ManualSheetRow[]; errors: ManualSheetError[] };

/** Data rows a sheet may hold. */
export const MANUAL_SHEET_MAX_ROWS = 5_000;
/** A 5 000-row sheet is well under 1 MB as CSV; 10 MB leaves room for XLSX styling and long evidence. */
export const MANUAL_SHEET_MAX_BYTES = 10 * 1024 * 1024;

/**
 * What a workbook may unzip to. A 5 000-row sheet with styles unzips to about 2 MB; a zip bomb of a few
 * hundred kilobytes to gigabytes.
 */
export const MANUAL_SHEET_MAX_UNZIPPED_BYTES = 32 * 1024 * 1024;
const MANUAL_SHEET_MAX_ARCHIVE_ENTRIES = 500;

interface Table {
  header: { row: number; cells: Cell[] } | null;
  rows: Array<{ row: number; cells: Cell[] }>;
  /** the row number of the first row past the cap, when there is one */
  overflowRow?: number;
}

const fileError = (row: number, code: ManualSheetErrorCode, message: string): ManualSheetResult => ({
  rows: [],
  errors: [{ row, column: '', code, message }],
});

/** `Data point`, `DATA-QUALITY` and `data_quality` all name the same column. */
const columnName = (c: Cell): string =>
  String(c ?? '')
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');

const blank = (cells: readonly Cell[]): boolean => cells.every((c) => c === null || String(c).trim() === '');

/** The delimiter of the header line: Excel in many European locales saves CSV with semicolons. */
function sniffDelimiter(text: string): string {
  const line = text.split(/\r?\n/).find((l) => l.trim() !== '' && !l.startsWith('#')) ?? '';
  const counts = [',', ';', '\t'].map((d) => [d, line.split(d).length - 1] as const);
  return counts.reduce((best, c) => (c[1] > best[1] ? c : best), [',', 0] as const)[0];
}

/** Header + the cap + one more to know the cap was passed: the rest of the file is never parsed. */
const CSV_RECORD_LIMIT = MANUAL_SHEET_MAX_ROWS + 2;

function readCsv(buffer: Buffer): Table | ManualSheetResult {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(buffer);
  } catch {
    return fileError(0, 'FILE_ENCODING', 'the file is not UTF-8 text: save it as "CSV UTF-8"');
  }
  let records: Array<{
    record: string[];
    info: { records: number; comment_lines: number; empty_lines: number };
  }>;
  try {
    // `info: true` makes each record { record, info }; the sync typings do not follow the option
    records = parse(text, {
      bom: true,
      delimiter: sniffDelimiter(text.replace(/^\uFEFF/, '')),
      comment: '#',
      comment_no_infix: true,
      skip_empty_lines: true,
      relax_column_count: true,
      relax_quotes: true,
      info: true,
      to: CSV_RECORD_LIMIT,
    }) as unknown as typeof records;
  } catch (err) {
    const line = (err as { lines?: number }).lines;
    return fileError(line ?? 0, 'CSV_MALFORMED', `the CSV cannot be read: ${(err as Error).message}`);
  }
  const table: Table = { header: null, rows: [] };
  for (const { record, info } of records) {
    // a spreadsheet shows every record, comment line and blank line as one row
    const row = info.records + info.comment_lines + info.empty_lines;
    if (table.header === null) table.header = { row, cells: record };
    else if (!blank(record)) table.rows.push({ row, cells: record });
  }
  if (table.rows.length > MANUAL_SHEET_MAX_ROWS) table.overflowRow = table.rows[MANUAL_SHEET_MAX_ROWS]?.row;
  else if (records.length === CSV_RECORD_LIMIT) {
    // blank records (",,,") filled the limit: the file still has more rows than a sheet may hold
    const last = records[records.length - 1]!.info;
    table.overflowRow = last.records + last.comment_lines + last.empty_lines;
  }
  return table;
}

function cellOf(v: ExcelJS.CellValue): Cell {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number' || typeof v === 'string' || v instanceof Date) return v;
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'object') {
    if ('richText' in v) return v.richText.map((t) => t.text).join('');
    if ('hyperlink' in v) return typeof v.text === 'string' ? v.text : String(v.hyperlink);
    if ('formula' in v || 'sharedFormula' in v)
      return cellOf((v as { result?: ExcelJS.CellValue }).result ?? null);
    if ('error' in v) return String(v.error);
  }
  return String(v);
}

async function readXlsx(buffer: Buffer): Promise<Table | ManualSheetResult> {
  const archive = await checkXlsxArchive(buffer, {
    maxUnzippedBytes: MANUAL_SHEET_MAX_UNZIPPED_BYTES,
    maxEntries: MANUAL_SHEET_MAX_ARCHIVE_ENTRIES,
  });
  if (!archive.ok)
    return fileError(
      0,
      archive.reason === 'unreadable' ? 'FILE_UNREADABLE' : 'FILE_TOO_LARGE',
      archive.reason === 'unreadable'
        ? `the file is not a readable XLSX workbook: ${archive.message}`
        : archive.message,
    );
  const wb = new ExcelJS.Workbook();
  try {
    // exceljs types a Node 18 Buffer; any Buffer works at run time
    await wb.xlsx.load(buffer as unknown as Parameters<typeof wb.xlsx.load>[0]);
  } catch (err) {
    return fileError(
      0,
      'FILE_UNREADABLE',
      `the file is not a readable XLSX workbook: ${(err as Error).message}`,
    );
  }
  const ws = wb.worksheets[0];
  if (ws === undefined) return fileError(1, 'HEADER_MISSING', 'the workbook has no sheet');
  const cellsOf = (r: ExcelJS.Row): Cell[] => {
    const out: Cell[] = [];
    for (let c = 1; c <= r.cellCount; c++) out.push(cellOf(r.getCell(c).value));
    return out;
  };
  const first = ws.findRow(1);
  const table: Table = { header: first === undefined ? null : { row: 1, cells: cellsOf(first) }, rows: [] };
  for (let n = 2; n <= ws.rowCount; n++) {
    const r = ws.findRow(n);
    if (r === undefined || !r.hasValues) continue;
    const cells = cellsOf(r);
    if (blank(cells)) continue;
    if (table.rows.length === MANUAL_SHEET_MAX_ROWS) {
      table.overflowRow = n;
      break;
    }
    table.rows.push({ row: n, cells });
  }
  return table;
}

export async function parseManualSheet(buffer: Buffer, format: 'csv' | 'xlsx'): Promise<ManualSheetResult> {
  if (buffer.byteLength > MANUAL_SHEET_MAX_BYTES)
    return fileError(
      0,
      'FILE_TOO_LARGE',
      `the file is larger than ${MANUAL_SHEET_MAX_BYTES / 1024 / 1024} MB`,
    );
  const table = format === 'csv' ? readCsv(buffer) : await readXlsx(buffer);
  if (!('header' in table)) return table;
  if (table.header === null || blank(table.header.cells))
    return fileError(
      1,
      'HEADER_MISSING',
      `the first row must name the columns: ${MANUAL_SHEET_COLUMNS.join(', ')}`,
    );
  if (table.overflowRow !== undefined)
    return fileError(
      table.overflowRow,
      'TOO_MANY_ROWS',
      `a sheet holds at most ${MANUAL_SHEET_MAX_ROWS} rows: split it into several files`,
    );

  const headerRow = table.header.row;
  const index = new Map<ManualSheetColumn, number>();
  const errors: ManualSheetError[] = [];
  table.header.cells.forEach((c, i) => {
    const name = columnName(c) as ManualSheetColumn;
    if (!(MANUAL_SHEET_COLUMNS as readonly string[]).includes(name)) return; // extra columns are ignored
    if (index.has(name))
      errors.push({
        row: headerRow,
        column: name,
        code: 'COLUMN_DUPLICATE',
        message: `column ${name} appears twice`,
      });
    else index.set(name, i);
  });
  for (const col of REQUIRED_COLUMNS)
    if (!index.has(col))
      errors.push({
        row: headerRow,
        column: col,
        code: 'COLUMN_MISSING',
        message: `the header has no ${col} column`,
      });
  if (errors.length > 0) return { rows: [], errors };

  const rows: ManualSheetRow[] = [];
  const seen = new Map<string, number>();
  for (const { row, cells } of table.rows) {
    const raw = Object.fromEntries(
      MANUAL_SHEET_COLUMNS.map((col) => {
        const i = index.get(col);
        return [col, i === undefined ? null : (cells[i] ?? null)];
      }),
    ) as RawRow;
    const result = validateRow(raw);
    if (!result.ok) {
      for (const e of result.errors) errors.push({ row, ...e, code: e.code as ManualSheetErrorCode });
      continue;
    }
    const v = result.row;
    const key = `${v.code.code}\u0000${v.data_point ?? ''}\u0000${v.period}`;
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      errors.push({
        row,
        column: 'code',
        code: 'ROW_DUPLICATE',
        message: `row ${earlier} already gives ${v.code.code}${v.data_point ? ` (${v.data_point})` : ''} for ${v.period}`,
      });
      continue;
    }
    seen.set(key, row);
    rows.push({
      row,
      code: v.code.code,
      ...(v.data_point === undefined ? {} : { dataPoint: v.data_point }),
      period: v.period,
      value: v.value,
      unit: v.unit,
      dataQuality: v.data_quality,
      source: v.source,
      ...(v.evidence === undefined ? {} : { evidence: v.evidence }),
    });
  }
  return { rows, errors };
}
