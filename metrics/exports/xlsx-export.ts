import ExcelJS from 'exceljs';
import { type KpiCatalogue, loadCatalogue } from '../catalogue/catalogue.ts';
import { STATUS_LABELS } from '../kpi-status.ts';
import type { ConsistencyFinding } from './rollup-entry.ts';
import { DATA_QUALITY_LABELS, type RollupEntry, sortEntries } from './rollup-entry.ts';
import { addConsistencySheet, addLineageSheet } from './xlsx-sheets.ts';
import {
  addHeader,
  addTitle,
  bandPoints,
  fillBand,
  numberFormatFor,
  PROVISIONAL_FILL,
  type TitleInfo,
} from './xlsx-style.ts';

/**
 * The XLSX roll-up export for assessments: sheets "Values", "Scores", "Consistency" and "Lineage", each
 * with title rows (city, period, version, closed or provisional, generated at), a bold frozen header row
 * with an autofilter. Values are rows in assessment order (dimension → sub-dimension → category → KPI →
 * data point), with the hierarchy in its own columns so the autofilter can group them; a not-reported value
 * is the text "NR"; rows that are not final (provisional, no data expected) are italic with a marked status
 * cell; the band cell is coloured.
 */

/** A score row: `aggregateScores` groups (dimension/subDimension/category) or rows with a `name`. */
export type ScoreRow = {
  name?: string;
  dimension?: string;
  subDimension?: string;
  category?: string;
  percent: number;
  band: string;
  points: number;
  maxPoints: number;
};

export interface XlsxExportInput {
  cityName: string;
  period: string;
  version: number;
  closed: boolean;
  entries: RollupEntry[];
  findings: ConsistencyFinding[];
  scores: { categories: ScoreRow[]; subDimensions: ScoreRow[]; dimensions: ScoreRow[] };
  /** epoch ms; default now (pass the platform clock's time for reproducible exports) */
  generatedAt?: number;
}

export const XLSX_SHEETS = ['Values', 'Scores', 'Consistency', 'Lineage'] as const;

export const VALUES_COLUMNS = [
  { header: 'Dimension', width: 14 },
  { header: 'Sub-dimension', width: 22 },
  { header: 'Category', width: 24 },
  { header: 'Code', width: 16 },
  { header: 'KPI', width: 36 },
  { header: 'Data point', width: 18 },
  { header: 'Value', width: 12 },
  { header: 'Unit', width: 24 },
  { header: 'Period', width: 9 },
  { header: 'Data quality', width: 30 },
  { header: 'Completeness', width: 13 },
  { header: 'Status', width: 12 },
  { header: 'Source', width: 10 },
  { header: 'Benchmark band', width: 15 },
  { header: 'Points', width: 8 },
  { header: 'Target', width: 10 },
  { header: 'Version', width: 8 },
] as const;

/** 1-based column of a Values header. */
export const valuesColumn = (header: (typeof VALUES_COLUMNS)[number]['header']): number =>
  VALUES_COLUMNS.findIndex((c) => c.header === header) + 1;

function addValuesSheet(
  wb: ExcelJS.Workbook,
  info: TitleInfo,
  entries: RollupEntry[],
  cat: KpiCatalogue,
): void {
  const ws = wb.addWorksheet('Values');
  const headerRow = addTitle(ws, info, 'U4SSC KPI values');
  addHeader(ws, headerRow, VALUES_COLUMNS);
  const col = valuesColumn;
  sortEntries(entries, cat).forEach((e, i) => {
    const reported = e.value !== null && Number.isFinite(e.value);
    const row = ws.getRow(headerRow + 1 + i);
    row.values = [
      e.dimension,
      e.subDimension,
      e.category,
      e.code,
      e.name,
      e.dataPoint ?? '',
      reported ? e.value : 'NR',
      e.unit,
      e.period,
      e.dataQuality === null ? '' : DATA_QUALITY_LABELS[e.dataQuality],
      e.completeness !== null && Number.isFinite(e.completeness) ? e.completeness : '',
      STATUS_LABELS[e.status],
      e.source ?? '',
      e.band ?? '',
      e.points ?? '',
      e.target ?? '',
      e.version,
    ];
    if (e.status !== 'final') {
      row.font = { italic: true };
      row.getCell(col('Status')).fill = {
        type: 'pattern',
        pattern: 'solid',
        fgColor: { argb: PROVISIONAL_FILL },
      };
    }
    const value = row.getCell(col('Value'));
    if (reported) value.numFmt = numberFormatFor(e.unit);
    else value.font = { italic: true, color: { argb: 'FF808080' } };
    value.alignment = { horizontal: 'right' };
    row.getCell(col('Target')).numFmt = numberFormatFor(e.unit);
    row.getCell(col('Completeness')).numFmt = '0.0%';
    fillBand(row.getCell(col('Benchmark band')), e.band === null ? null : bandPoints(e.band, e.points));
  });
}

function addScoresSheet(
  wb: ExcelJS.Workbook,
  info: TitleInfo,
  scores: XlsxExportInput['scores'],
  cat: KpiCatalogue,
): void {
  const ws = wb.addWorksheet('Scores');
  const headerRow = addTitle(ws, info, 'U4SSC benchmark scores');
  addHeader(ws, headerRow, [
    { header: 'Level', width: 14 },
    { header: 'Dimension', width: 14 },
    { header: 'Sub-dimension', width: 22 },
    { header: 'Category', width: 28 },
    { header: 'Score', width: 10 },
    { header: 'Band', width: 12 },
    { header: 'Points', width: 8 },
    { header: 'Max points', width: 11 },
  ]);
  // hierarchy order: each dimension, then its sub-dimensions, each followed by its categories
  const rank = new Map<string, number>();
  for (const d of cat.hierarchy()) {
    rank.set(`${d.name}`, rank.size);
    for (const s of d.subDimensions) {
      rank.set(`${d.name}\u0000${s.name}`, rank.size);
      for (const c of s.categories) rank.set(`${d.name}\u0000${s.name}\u0000${c.name}`, rank.size);
    }
  }
  const rows = [
    ...scores.dimensions.map((s) => ({ level: 'dimension', s, key: [s.dimension ?? s.name] })),
    ...scores.subDimensions.map((s) => ({
      level: 'sub-dimension',
      s,
      key: [s.dimension, s.subDimension ?? s.name],
    })),
    ...scores.categories.map((s) => ({
      level: 'category',
      s,
      key: [s.dimension, s.subDimension, s.category ?? s.name],
    })),
  ].map((r, i) => ({ ...r, i, rank: rank.get(r.key.join('\u0000')) ?? Number.MAX_SAFE_INTEGER }));
  rows.sort((a, b) => a.rank - b.rank || a.i - b.i);
  rows.forEach(({ level, s }, i) => {
    const row = ws.getRow(headerRow + 1 + i);
    row.values = [
      level,
      s.dimension ?? (level === 'dimension' ? (s.name ?? '') : ''),
      s.subDimension ?? (level === 'sub-dimension' ? (s.name ?? '') : ''),
      s.category ?? (level === 'category' ? (s.name ?? '') : ''),
      Number.isFinite(s.percent) ? s.percent / 100 : '',
      s.band,
      s.points,
      s.maxPoints,
    ];
    if (level !== 'category') row.font = { bold: level === 'dimension' };
    row.getCell(5).numFmt = '0.0%';
    fillBand(row.getCell(6), bandPoints(s.band, null, s.percent));
  });
}

export async function toXlsx(input: XlsxExportInput): Promise<Buffer> {
  const cat = loadCatalogue();
  const info: TitleInfo = {
    cityName: input.cityName,
    period: input.period,
    version: input.version,
    closed: input.closed,
    generatedAt: input.generatedAt ?? Date.now(),
  };
  const wb = new ExcelJS.Workbook();
  wb.creator = 'citymetrics';
  wb.created = new Date(info.generatedAt);
  wb.modified = new Date(info.generatedAt);
  addValuesSheet(wb, info, input.entries, cat);
  addScoresSheet(wb, info, input.scores, cat);
  addConsistencySheet(wb, info, input.findings);
  addLineageSheet(wb, info, sortEntries(input.entries, cat));
  return Buffer.from(await wb.xlsx.writeBuffer());
}
