import { stringify } from 'csv-stringify/sync';
import ExcelJS from 'exceljs';
import { compactCode, loadCatalogue } from '../catalogue/catalogue.ts';
import { DATA_QUALITY_CLASSES } from '../kpi-types.ts';
import { MANUAL_SHEET_COLUMNS } from './manual-sheet-fields.ts';
import { DATA_QUALITY_LABELS } from './rollup-entry.ts';

/**
 * The manual-input template: the header, one example row, and the KPIs entered by hand (catalogue
 * `obtained: manual`) with their units and data points. In CSV the list follows as `#` comment lines,
 * which `parseManualSheet` skips; in XLSX it is on the sheets after the first (only the first is read).
 * The example row is a real, valid row: replace or delete it before importing.
 */

/** Basic Water Supply: a manual KPI with a single data point in %. */
const EXAMPLE = {
  code: 'EC: I: WS: 1C',
  data_point: '',
  period: '2025',
  value: 98.5,
  unit: '%',
  data_quality: DATA_QUALITY_LABELS['accurate-measurement'],
  source: 'Water utility annual report 2025 (example: replace or delete this row)',
  evidence: 'https://example.org/water-utility-report-2025.pdf',
} as const;

const manualKpis = () => loadCatalogue().kpis.filter((k) => k.obtained === 'manual');

function csvTemplate(): string {
  const body = stringify([[...MANUAL_SHEET_COLUMNS], MANUAL_SHEET_COLUMNS.map((c) => String(EXAMPLE[c]))], {
    bom: true,
    record_delimiter: 'windows',
  });
  const notes = [
    '# Lines starting with # are ignored. One row per KPI, data point and period; leave data_point empty for a',
    '# single-value KPI. period: YYYY, YYYY-MM or YYYY-Qn. value: a number with a decimal point.',
    `# data_quality: ${DATA_QUALITY_CLASSES.map((c) => DATA_QUALITY_LABELS[c]).join(' | ')}`,
    '# Manual KPIs (code | compact code | name | unit | data points):',
    ...manualKpis().map(
      (k) => `# ${k.code} | ${compactCode(k.code)} | ${k.name} | ${k.unit} | ${k.dataPoints.join(' / ')}`,
    ),
  ];
  return `${body}${notes.join('\r\n')}\r\n`;
}

async function xlsxTemplate(): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  wb.creator = 'citymetrics';
  const ws = wb.addWorksheet('Manual inputs');
  ws.addRow([...MANUAL_SHEET_COLUMNS]);
  ws.addRow(MANUAL_SHEET_COLUMNS.map((c) => EXAMPLE[c]));
  ws.getRow(1).font = { bold: true };
  ws.views = [{ state: 'frozen', ySplit: 1 }];
  const widths = [16, 18, 10, 10, 26, 30, 50, 50];
  widths.forEach((w, i) => {
    ws.getColumn(i + 1).width = w;
  });
  // text format: Excel would otherwise turn a typed 2025-03 into a date
  ws.getColumn(3).numFmt = '@';
  const labels = DATA_QUALITY_CLASSES.map((c) => DATA_QUALITY_LABELS[c]).join(',');
  for (let r = 2; r <= 501; r++)
    ws.getCell(r, 6).dataValidation = { type: 'list', allowBlank: true, formulae: [`"${labels}"`] };

  const kpis = wb.addWorksheet('Manual KPIs');
  kpis.addRow(['code', 'compact code', 'name', 'unit', 'data points', 'dimension', 'category']);
  kpis.getRow(1).font = { bold: true };
  for (const k of manualKpis())
    kpis.addRow([
      k.code,
      compactCode(k.code),
      k.name,
      k.unit,
      k.dataPoints.join(' / '),
      k.dimension,
      k.category,
    ]);
  [16, 16, 40, 30, 50, 14, 28].forEach((w, i) => {
    kpis.getColumn(i + 1).width = w;
  });

  const dq = wb.addWorksheet('Data quality');
  dq.addRow(['label', 'id']);
  dq.getRow(1).font = { bold: true };
  for (const c of DATA_QUALITY_CLASSES) dq.addRow([DATA_QUALITY_LABELS[c], c]);
  dq.getColumn(1).width = 36;
  dq.getColumn(2).width = 30;
  return Buffer.from(await wb.xlsx.writeBuffer());
}

export function manualSheetTemplate(format: 'csv'): string;
export function manualSheetTemplate(format: 'xlsx'): Promise<Buffer>;
export function manualSheetTemplate(format: 'csv' | 'xlsx'): string | Promise<Buffer>;
export function manualSheetTemplate(format: 'csv' | 'xlsx'): string | Promise<Buffer> {
  return format === 'csv' ? csvTemplate() : xlsxTemplate();
}
