import type { KpiCatalogue } from '../catalogue/catalogue.ts';
import { DATA_QUALITY_CLASSES, type DataQuality } from '../kpi-types.ts';
import type { RollupEntry } from '../rollup-types.ts';

/**
 * The shapes the assessment exports share: one roll-up entry per KPI and data point (a multi-point KPI such
 * as Air Pollution gives one entry per pollutant), and the findings of the verifier consistency report.
 */

export type { RollupEntry } from '../rollup-types.ts';
export type RollupSource = NonNullable<RollupEntry['source']>;

export type ConsistencyFinding = {
  /** stable rule id, e.g. `transport-mode-share-sum` */
  rule: string;
  severity: 'error' | 'warning';
  /** official codes of the KPIs involved */
  codes: string[];
  message: string;
};

/** The labels the U4SSC KPIs Verification Manual uses for the six data-quality classes. */
export const DATA_QUALITY_LABELS: Readonly<Record<DataQuality, string>> = Object.freeze({
  'accurate-measurement': 'Accurate measurement',
  'extrapolated-survey': 'Extrapolated from a survey',
  'extrapolated-higher-level': 'Extrapolated from higher-level data',
  'estimation-with-assumptions': 'Estimation with assumptions',
  'personal-estimation': 'Personal estimation',
  unknown: 'Unknown / not traceable',
});

const squash = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]+/g, '');

/** Short forms people write in sheets, besides the ids and the manual's labels. */
const DATA_QUALITY_ALIASES: Readonly<Record<string, DataQuality>> = {
  accurate: 'accurate-measurement',
  measured: 'accurate-measurement',
  survey: 'extrapolated-survey',
  extrapolatedsurvey: 'extrapolated-survey',
  extrapolatedhigherlevel: 'extrapolated-higher-level',
  estimation: 'estimation-with-assumptions',
  estimated: 'estimation-with-assumptions',
  personal: 'personal-estimation',
  unknown: 'unknown',
  nottraceable: 'unknown',
};

const DATA_QUALITY_BY_SQUASHED: ReadonlyMap<string, DataQuality> = new Map<string, DataQuality>([
  ...DATA_QUALITY_CLASSES.map((c) => [squash(c), c] as [string, DataQuality]),
  ...DATA_QUALITY_CLASSES.map((c) => [squash(DATA_QUALITY_LABELS[c]), c] as [string, DataQuality]),
  ...Object.entries(DATA_QUALITY_ALIASES),
]);

/**
 * A data-quality class from its id (`accurate-measurement`) or its label ("Accurate measurement"),
 * ignoring case, spaces and punctuation; null when it is none of the six.
 */
export function parseDataQuality(text: string): DataQuality | null {
  return DATA_QUALITY_BY_SQUASHED.get(squash(text)) ?? null;
}

/**
 * Entries in assessment order: dimension → sub-dimension → category as the catalogue's hierarchy lists
 * them, then KPI, then data point in the catalogue's order (the single value first). Entries of codes the
 * catalogue does not know go last, by code. Stable: equal keys keep their input order.
 */
export function sortEntries(entries: readonly RollupEntry[], catalogue: KpiCatalogue): RollupEntry[] {
  const rank = new Map<string, number>();
  for (const d of catalogue.hierarchy())
    for (const s of d.subDimensions)
      for (const c of s.categories) for (const code of c.codes) rank.set(code, rank.size);
  const dpRank = (e: RollupEntry): number => {
    if (e.dataPoint === null) return -1;
    const i = catalogue.get(e.code)?.dataPoints.indexOf(e.dataPoint) ?? -1;
    return i < 0 ? Number.MAX_SAFE_INTEGER : i;
  };
  return entries
    .map((e, i) => ({ e, i, r: rank.get(e.code) ?? Number.MAX_SAFE_INTEGER, d: dpRank(e) }))
    .sort(
      (a, b) =>
        a.r - b.r ||
        (a.r === Number.MAX_SAFE_INTEGER ? cmp(a.e.code, b.e.code) : 0) ||
        a.d - b.d ||
        a.i - b.i,
    )
    .map((x) => x.e);
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Completeness as a percentage with one decimal, or '' when unknown. */
export function completenessPercent(c: number | null): string {
  return c === null || !Number.isFinite(c) ? '' : String(Math.round(c * 1000) / 10);
}
