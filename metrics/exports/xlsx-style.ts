import type ExcelJS from 'exceljs';
import { bandOf, SCORE_BANDS } from '../scoring.ts';

/** Formatting the XLSX export shares across its sheets. */

/** Band fills by points: 1 red, 2 orange, 3 yellow-green, 4 green (ARGB). */
export const BAND_FILLS: Readonly<Record<1 | 2 | 3 | 4, string>> = Object.freeze({
  1: 'FFE74C3C',
  2: 'FFF39C12',
  3: 'FF9ACD32',
  4: 'FF27AE60',
});

/** Light yellow behind provisional rows' status cell. */
export const PROVISIONAL_FILL = 'FFFFF2CC';

/** Excel refuses cells longer than 32 767 characters; long lineage notes are cut. */
const MAX_CELL_CHARS = 32_000;
export const cellText = (s: string): string =>
  s.length > MAX_CELL_CHARS ? `${s.slice(0, MAX_CELL_CHARS)}…` : s;

/** Points 1..4 of a band: from the points when valid, else the band label, else the percent. */
export function bandPoints(
  band: string | null,
  points?: number | null,
  percent?: number,
): 1 | 2 | 3 | 4 | null {
  if (points === 1 || points === 2 || points === 3 || points === 4) return points;
  const i = band === null ? -1 : (SCORE_BANDS as readonly string[]).indexOf(band);
  if (i >= 0) return (i + 1) as 1 | 2 | 3 | 4;
  return percent !== undefined && Number.isFinite(percent) ? bandOf(percent).points : null;
}

export function fillBand(cell: ExcelJS.Cell, points: 1 | 2 | 3 | 4 | null): void {
  if (points === null) return;
  cell.fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: BAND_FILLS[points] } };
  cell.font = { ...cell.font, bold: true, color: { argb: points === 1 ? 'FFFFFFFF' : 'FF000000' } };
}

/**
 * Number formats by unit. Values are in the KPI's unit as U4SSC reports them (a share is 93.5, not 0.935),
 * so shares get a plain format, not Excel's % format which would multiply by 100.
 */
const UNIT_FORMATS: ReadonlyArray<[RegExp, string]> = [
  [/^(yes\/no|number|number of .*)$/, '#,##0'],
  [/^(ratio|coefficient)$/, '0.00'],
  [/^%/, '0.0'],
  [/per 100 000|per capita|per customer|per m²/, '#,##0.0'],
  [/^(µg\/m³|minutes|years)$/, '0.0'],
];

export function numberFormatFor(unit: string): string {
  const u = unit.trim().toLowerCase();
  return UNIT_FORMATS.find(([re]) => re.test(u))?.[1] ?? '#,##0.00';
}

export interface TitleInfo {
  cityName: string;
  period: string;
  version: number;
  closed: boolean;
  generatedAt: number;
}

/**
 * Title rows on every sheet (1: city and sheet, 2: period, version, status, generated at; 3 blank).
 * Returns the row number of the sheet's header row.
 */
export function addTitle(ws: ExcelJS.Worksheet, info: TitleInfo, sheetTitle: string): number {
  ws.getCell('A1').value = `${info.cityName}: ${sheetTitle}`;
  ws.getCell('A1').font = { bold: true, size: 14 };
  ws.getCell('A2').value =
    `Period ${info.period} · version ${info.version} · ${info.closed ? 'closed' : 'provisional (period not closed)'}` +
    ` · generated ${new Date(info.generatedAt).toISOString()}`;
  ws.getCell('A2').font = { italic: true, color: { argb: 'FF555555' } };
  return 4;
}

/** Header row: bold, grey fill, frozen below, with an autofilter over its columns. */
export function addHeader(
  ws: ExcelJS.Worksheet,
  row: number,
  columns: ReadonlyArray<{ header: string; width: number }>,
): void {
  const r = ws.getRow(row);
  columns.forEach((c, i) => {
    r.getCell(i + 1).value = c.header;
    ws.getColumn(i + 1).width = c.width;
  });
  r.font = { bold: true };
  r.eachCell((cell) => {
    cell.fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFD9D9D9' } };
    cell.border = { bottom: { style: 'thin' } };
  });
  ws.views = [{ state: 'frozen', ySplit: row }];
  ws.autoFilter = { from: { row, column: 1 }, to: { row, column: columns.length } };
}
