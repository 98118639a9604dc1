import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { loadCatalogue } from '../catalogue/catalogue.ts';
import { MANUAL_SHEET_MAX_ROWS, parseManualSheet } from './manual-sheet.ts';
import { MANUAL_SHEET_COLUMNS } from './manual-sheet-fields.ts';
import { manualSheetTemplate } from './manual-sheet-template.ts';

const HEADER = 'code,data_point,period,value,unit,data_quality,source,evidence';
const csv = (...lines: string[]): Buffer => Buffer.from(`${lines.join('\n')}\n`);
const GOOD = 'EC-I-WS-1C,,2025,98.5,%,accurate-measurement,utility report,';

async function xlsx(rows: ExcelJS.CellValue[][]): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('Sheet1');
  for (const r of rows) ws.addRow(r);
  wb.addWorksheet('Ignored').addRow(['not', 'read']);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

/** One bad data row each (row 2 of the sheet): the column and error code it must report. */
const BAD_ROWS: Array<[string, string, string]> = [
  ['XX-YY-ZZ-1C,,2025,50,%,accurate-measurement,src,', 'code', 'KPI_UNKNOWN'],
  [',,2025,50,%,accurate-measurement,src,', 'code', 'REQUIRED'],
  ['EN-EN-WS-4C,Quaternary,2025,50,%,accurate-measurement,src,', 'data_point', 'DATA_POINT_UNKNOWN'],
  ['EC-I-WS-1C,,2025-13,50,%,accurate-measurement,src,', 'period', 'PERIOD_INVALID'],
  ['EC-I-WS-1C,,25,50,%,accurate-measurement,src,', 'period', 'PERIOD_INVALID'],
  ['EC-I-WS-1C,,2025-03-mtd,50,%,accurate-measurement,src,', 'period', 'PERIOD_INVALID'],
  ['EC-I-WS-1C,,2025/03,50,%,accurate-measurement,src,', 'period', 'PERIOD_INVALID'],
  ['EC-I-WS-1C,,,50,%,accurate-measurement,src,', 'period', 'REQUIRED'],
  ['EC-I-WS-1C,,2025,"12,5",%,accurate-measurement,src,', 'value', 'VALUE_DECIMAL_COMMA'],
  ['EC-I-WS-1C,,2025,"1,234.5",%,accurate-measurement,src,', 'value', 'VALUE_DECIMAL_COMMA'],
  ['EC-I-WS-1C,,2025,abc,%,accurate-measurement,src,', 'value', 'VALUE_NOT_NUMBER'],
  ['EC-I-WS-1C,,2025,50 %,%,accurate-measurement,src,', 'value', 'VALUE_NOT_NUMBER'],
  ['EC-I-WS-1C,,2025,NR,%,accurate-measurement,src,', 'value', 'VALUE_NOT_NUMBER'],
  ['EC-I-WS-1C,,2025,1e999,%,accurate-measurement,src,', 'value', 'VALUE_NOT_FINITE'],
  ['EC-I-WS-1C,,2025,,%,accurate-measurement,src,', 'value', 'REQUIRED'],
  ['EC-I-WS-1C,,2025,50,kg,accurate-measurement,src,', 'unit', 'UNIT_MISMATCH'],
  ['EN-EN-WS-2C,,2025,120,%,accurate-measurement,src,', 'unit', 'UNIT_MISMATCH'],
  ['EC-ICT-PS-1A,Open Data: number,2025,12,%,accurate-measurement,src,', 'unit', 'UNIT_MISMATCH'],
  ['EC-I-WS-1C,,2025,50,,accurate-measurement,src,', 'unit', 'REQUIRED'],
  ['EC-I-WS-1C,,2025,50,%,great,src,', 'data_quality', 'DATA_QUALITY_UNKNOWN'],
  ['EC-I-WS-1C,,2025,50,%,,src,', 'data_quality', 'REQUIRED'],
  ['EC-I-WS-1C,,2025,50,%,accurate-measurement,  ,', 'source', 'REQUIRED'],
  [`EC-I-WS-1C,,2025,50,%,accurate-measurement,${'s'.repeat(501)},`, 'source', 'TOO_LONG'],
  [`EC-I-WS-1C,,2025,50,%,accurate-measurement,src,${'e'.repeat(2001)}`, 'evidence', 'TOO_LONG'],
];

describe('parseManualSheet: bad rows', () => {
  it.each(BAD_ROWS)('%s → %s %s', async (line, column, code) => {
    const { rows, errors } = await parseManualSheet(csv(HEADER, line), 'csv');
    expect(rows).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ row: 2, column, code });
    expect(errors[0]!.message.length).toBeGreaterThan(5);
  });

  it('names the expected unit in a unit mismatch', async () => {
    const { errors } = await parseManualSheet(csv(HEADER, 'EN-EN-WS-2C,,2025,120,%,survey,src,'), 'csv');
    expect(errors[0]!.message).toContain('litres per capita per day');
  });

  it('reports every bad cell of a row, and keeps the good rows', async () => {
    const { rows, errors } = await parseManualSheet(
      csv(HEADER, GOOD, 'FOO,,2025-13,"1,5",kg,bad,,', 'EC-I-WS-2C,,2025,97,%,survey,src,'),
      'csv',
    );
    expect(rows.map((r) => r.row)).toEqual([2, 4]);
    expect(errors.map((e) => [e.row, e.column, e.code])).toEqual([
      [3, 'code', 'KPI_UNKNOWN'],
      [3, 'period', 'PERIOD_INVALID'],
      [3, 'value', 'VALUE_DECIMAL_COMMA'],
      [3, 'data_quality', 'DATA_QUALITY_UNKNOWN'],
      [3, 'source', 'REQUIRED'],
    ]);
  });

  it('refuses the same KPI, data point and period twice', async () => {
    const { rows, errors } = await parseManualSheet(
      csv(
        HEADER,
        GOOD,
        'EC: I: WS: 1C,Basic Water Supply,2025,97,%,survey,other,',
        'EC-I-WS-1C,,2024,97,%,survey,src,',
      ),
      'csv',
    );
    expect(rows).toHaveLength(2);
    expect(errors).toEqual([expect.objectContaining({ row: 3, column: 'code', code: 'ROW_DUPLICATE' })]);
    expect(errors[0]!.message).toContain('row 2');
  });

  it('numbers rows as a spreadsheet shows them: comment, blank and multi-line rows count', async () => {
    const text = `${HEADER}\n# a note\n\n"EC-I-WS-1C",,2025,98,%,survey,"two\nlines",\nEC-I-WS-1C,,2026,x,%,survey,src,\n`;
    const { rows, errors } = await parseManualSheet(Buffer.from(text), 'csv');
    expect(rows.map((r) => r.row)).toEqual([4]);
    expect(errors).toEqual([expect.objectContaining({ row: 5, column: 'value', code: 'VALUE_NOT_NUMBER' })]);
  });
});

describe('parseManualSheet: the header and the file', () => {
  it('names each missing required column once', async () => {
    const { rows, errors } = await parseManualSheet(csv('code,period,data_quality,source', GOOD), 'csv');
    expect(rows).toEqual([]);
    expect(errors.map((e) => [e.row, e.column, e.code])).toEqual([
      [1, 'value', 'COLUMN_MISSING'],
      [1, 'unit', 'COLUMN_MISSING'],
    ]);
  });

  it('reads columns in any order and case, and ignores extra columns', async () => {
    const { rows, errors } = await parseManualSheet(
      csv(
        'Notes,SOURCE,Value,Unit,Data Quality,Period,Code',
        'x,report,42,%,Accurate measurement,2025-q3,ec: i: ws: 1c',
      ),
      'csv',
    );
    expect(errors).toEqual([]);
    expect(rows).toEqual([
      {
        row: 2,
        code: 'EC: I: WS: 1C',
        period: '2025-Q3',
        value: 42,
        unit: '%',
        dataQuality: 'accurate-measurement',
        source: 'report',
      },
    ]);
  });

  it('refuses a column given twice', async () => {
    const { errors } = await parseManualSheet(csv(`${HEADER},Code`, GOOD), 'csv');
    expect(errors).toEqual([expect.objectContaining({ row: 1, column: 'code', code: 'COLUMN_DUPLICATE' })]);
  });

  it('refuses an empty file, a file that is not UTF-8 and a broken CSV', async () => {
    expect((await parseManualSheet(Buffer.from(''), 'csv')).errors).toEqual([
      expect.objectContaining({ row: 1, code: 'HEADER_MISSING' }),
    ]);
    const latin1 = Buffer.from(`${HEADER}\nEN-EN-AQ-1C,PM10,2025,20,\xb5g/m\xb3,survey,src,\n`, 'latin1');
    expect((await parseManualSheet(latin1, 'csv')).errors).toEqual([
      expect.objectContaining({ code: 'FILE_ENCODING' }),
    ]);
    expect((await parseManualSheet(csv(HEADER, 'EC-I-WS-1C,,2025,"50'), 'csv')).errors).toEqual([
      expect.objectContaining({ code: 'CSV_MALFORMED' }),
    ]);
  });

  it(`takes ${MANUAL_SHEET_MAX_ROWS} rows and refuses one more with a single error`, async () => {
    const lines = Array.from(
      { length: MANUAL_SHEET_MAX_ROWS },
      (_, i) => `EC-I-WS-1C,,${1000 + i},50,%,survey,src,`,
    );
    const ok = await parseManualSheet(csv(HEADER, ...lines), 'csv');
    expect(ok.errors).toEqual([]);
    expect(ok.rows).toHaveLength(MANUAL_SHEET_MAX_ROWS);
    const tooMany = await parseManualSheet(csv(HEADER, ...lines, 'EC-I-WS-1C,,2999,50,%,survey,src,'), 'csv');
    expect(tooMany.rows).toEqual([]);
    expect(tooMany.errors).toEqual([
      expect.objectContaining({ row: MANUAL_SHEET_MAX_ROWS + 2, column: '', code: 'TOO_MANY_ROWS' }),
    ]);
  });
});

describe('parseManualSheet: valid sheets', () => {
  const expected = [
    {
      row: 2,
      code: 'EC: I: WS: 1C',
      period: '2025',
      value: 98.5,
      unit: '%',
      dataQuality: 'accurate-measurement',
      source: 'utility report',
    },
    {
      row: 3,
      code: 'EN: EN: AQ: 1C',
      dataPoint: 'PM2.5',
      period: '2025-03',
      value: 7.25,
      unit: 'µg/m³',
      dataQuality: 'extrapolated-survey',
      source: 'regional agency',
      evidence: 'https://example.org/aq.pdf',
    },
    {
      row: 4,
      code: 'EN: EN: WS: 4C',
      dataPoint: 'Secondary',
      period: '2024-Q4',
      value: -0.5,
      unit: '%',
      dataQuality: 'unknown',
      source: 'estimate',
    },
    {
      row: 5,
      code: 'EC: ICT: PS: 1A',
      dataPoint: 'Open Data: number',
      period: '2025',
      value: 120,
      unit: 'number',
      dataQuality: 'personal-estimation',
      source: 'portal',
    },
  ];

  it('parses a CSV (semicolon separated, BOM, labels and loose spellings)', async () => {
    const text =
      '\uFEFFcode;data_point;period;value;unit;data_quality;source;evidence\r\n' +
      'EC-I-WS-1C;;2025;98.5;%;Accurate measurement;utility report;\r\n' +
      'EN: EN: AQ: 1C;pm2.5;2025-03;7.25;μg / m3;Extrapolated from a survey;regional agency;https://example.org/aq.pdf\r\n' +
      'en-en-ws-4c;SECONDARY;2024-q4;-.5; % ;Unknown / not traceable;estimate;\r\n' +
      'EC-ICT-PS-1A;Open Data: number;2025;1.2e2;Number;personal-estimation;portal;\r\n';
    const result = await parseManualSheet(Buffer.from(text), 'csv');
    expect(result.errors).toEqual([]);
    expect(result.rows).toEqual(expected);
  });

  it('parses an XLSX written by exceljs: numbers, dates as months, rich text and formulas', async () => {
    const buffer = await xlsx([
      ['Code', 'Data_Point', 'Period', 'Value', 'Unit', 'Data_Quality', 'Source', 'Evidence'],
      ['EC-I-WS-1C', null, 2025, 98.5, '%', 'accurate-measurement', 'utility report', null],
      [
        'EN-EN-AQ-1C',
        'PM2.5',
        new Date(Date.UTC(2025, 2, 1)),
        { formula: '29/4', result: 7.25 },
        'µg/m³',
        'extrapolated-survey',
        { richText: [{ text: 'regional ' }, { text: 'agency', font: { bold: true } }] },
        { text: 'https://example.org/aq.pdf', hyperlink: 'https://example.org/aq.pdf' },
      ],
      [],
      ['EN-EN-WS-4C', 'Secondary', '2024-Q4', -0.5, '%', 'unknown', 'estimate', null],
      ['EC-ICT-PS-1A', 'Open Data: number', '2025', '120', 'number', 'Personal estimation', 'portal', null],
    ]);
    const result = await parseManualSheet(buffer, 'xlsx');
    expect(result.errors).toEqual([]);
    // the blank sheet row 4 is skipped: rows keep their sheet numbers
    expect(result.rows).toEqual(expected.map((r, i) => ({ ...r, row: i < 2 ? r.row : r.row + 1 })));
  });

  it('reports XLSX errors with sheet row numbers', async () => {
    const buffer = await xlsx([
      [...MANUAL_SHEET_COLUMNS],
      ['EC-I-WS-1C', null, 2025, 98.5, '%', 'accurate-measurement', 'utility report', null],
      ['EC-I-WS-1C', null, 2026, '12,5', '%', 'accurate-measurement', 'utility report', null],
    ]);
    const result = await parseManualSheet(buffer, 'xlsx');
    expect(result.rows).toHaveLength(1);
    expect(result.errors).toEqual([
      expect.objectContaining({ row: 3, column: 'value', code: 'VALUE_DECIMAL_COMMA' }),
    ]);
  });

  it('refuses a file that is not a workbook', async () => {
    const result = await parseManualSheet(Buffer.from('not a zip'), 'xlsx');
    expect(result.errors).toEqual([expect.objectContaining({ code: 'FILE_UNREADABLE' })]);
  });
});

describe('manualSheetTemplate', () => {
  const manual = loadCatalogue().kpis.filter((k) => k.obtained === 'manual');

  it('CSV: header, a valid example row, and the manual KPIs as comment lines', async () => {
    const text = manualSheetTemplate('csv');
    expect(text.replace(/^\uFEFF/, '').split('\r\n')[0]).toBe(MANUAL_SHEET_COLUMNS.join(','));
    for (const k of manual) expect(text).toContain(`# ${k.code} |`);
    const parsed = await parseManualSheet(Buffer.from(text), 'csv');
    expect(parsed.errors).toEqual([]);
    expect(parsed.rows).toEqual([expect.objectContaining({ row: 2, code: 'EC: I: WS: 1C', value: 98.5 })]);
  });

  it('XLSX: the input sheet first, then the manual KPIs', async () => {
    const buffer = await manualSheetTemplate('xlsx');
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(buffer as unknown as Parameters<typeof wb.xlsx.load>[0]);
    expect(wb.worksheets.map((w) => w.name)).toEqual(['Manual inputs', 'Manual KPIs', 'Data quality']);
    expect(wb.getWorksheet('Manual KPIs')!.actualRowCount).toBe(1 + manual.length);
    const parsed = await parseManualSheet(buffer, 'xlsx');
    expect(parsed.errors).toEqual([]);
    expect(parsed.rows).toEqual([expect.objectContaining({ row: 2, code: 'EC: I: WS: 1C', period: '2025' })]);
  });
});
