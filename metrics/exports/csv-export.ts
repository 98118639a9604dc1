import { stringify } from 'csv-stringify/sync';
import { loadCatalogue } from '../catalogue/catalogue.ts';
import { STATUS_LABELS } from '../kpi-status.ts';
import { completenessPercent, type RollupEntry, sortEntries } from './rollup-entry.ts';

/**
 * The CSV roll-up export: one row per KPI and data point, in assessment order.
 *
 * - RFC 4180: comma separated, CRLF line ends, fields quoted when they hold a comma, quote or line break.
 * - UTF-8 with a byte-order mark by default. Excel opens a BOM-less UTF-8 file in the legacy code page and
 *   mangles `µg/m³`, `CO2e` and city names; csv-parse (`bom: true`), pandas and R strip the BOM. Pass
 *   `{ bom: false }` for tools that do not.
 * - Numbers are written as JavaScript prints them (full precision, decimal point, no thousands separator);
 *   a value not reported is `NR`. Completeness is a percentage with one decimal. Data quality is the
 *   class id (`accurate-measurement`): stable for machines; the XLSX export shows the manual's labels.
 *   Status is `final`, `provisional` or `no data expected` (metrics/kpi-status.ts, as the API says).
 * - Every text field comes from the catalogue or a closed set (codes, names, units, period labels, source
 *   kinds), so no cell can start a spreadsheet formula: no escaping beyond RFC 4180 is needed.
 */

export const CSV_COLUMNS = [
  'code',
  'name',
  'dimension',
  'sub-dimension',
  'category',
  'data point',
  'value',
  'unit',
  'period',
  'data quality',
  'completeness (%)',
  'status',
  'source',
  'benchmark band',
  'points',
  'target',
  'version',
] as const;

const num = (n: number | null): string => (n === null || !Number.isFinite(n) ? '' : String(n));

export function toCsv(entries: RollupEntry[], options: { bom?: boolean } = {}): string {
  const rows = sortEntries(entries, loadCatalogue()).map((e) => [
    e.code,
    e.name,
    e.dimension,
    e.subDimension,
    e.category,
    e.dataPoint ?? '',
    e.value === null || !Number.isFinite(e.value) ? 'NR' : String(e.value),
    e.unit,
    e.period,
    e.dataQuality ?? '',
    completenessPercent(e.completeness),
    STATUS_LABELS[e.status],
    e.source ?? '',
    e.band ?? '',
    num(e.points),
    num(e.target),
    String(e.version),
  ]);
  return stringify([[...CSV_COLUMNS], ...rows], {
    bom: options.bom ?? true,
    record_delimiter: 'windows',
  });
}
