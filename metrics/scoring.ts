import type { BetterWhen, KpiCatalogue } from './catalogue/catalogue.ts';
import type { DataPointValue } from './kpi-types.ts';

/**
 * U4SSC benchmark scoring (README, "Benchmarks"). Each KPI, and each data point of a multi-point KPI, is
 * scored against a target as "% of target" in four bands: 0–33 % → 1 point, 33–66 % → 2, 66–95 % → 3,
 * 95 % and more → 4. Points sum into category, sub-dimension and dimension percentages (points ÷ 4 per
 * scored item), reported in the same bands; KPIs not reported or without a target are left out.
 */

export const SCORE_BANDS = ['0–33 %', '33–66 %', '66–95 %', '95–100 %'] as const;
export type ScoreBand = (typeof SCORE_BANDS)[number];
export type ScorePoints = 1 | 2 | 3 | 4;

export interface Score {
  /** 0..100, capped at 100 */
  percentOfTarget: number;
  points: ScorePoints;
  band: ScoreBand;
}

/** A configured target: one value, or one per data point (Air Pollution). */
export interface KpiTarget {
  value?: number;
  dataPoints?: Readonly<Record<string, number>>;
  /** where the figure comes from (guideline, plan, council decision) */
  source: string;
  note?: string;
}

/**
 * Targets where a public guideline exists; cities override or add their own. Targets are not published
 * per KPI by U4SSC. Deliberately absent: Noise Exposure (the WHO 2018 Environmental Noise Guidelines give
 * the level, 53 dB Lden for road traffic, which is the formula's threshold setting, not a target share),
 * Water Consumption (WHO's 50–100 L per person per day is a basic-needs minimum, not a ceiling), Renewable
 * Energy (national targets differ).
 */
export const defaultTargets: Readonly<Record<string, KpiTarget>> = Object.freeze({
  'EN: EN: AQ: 1C': {
    dataPoints: { 'PM2.5': 5, PM10: 15, NO2: 10, SO2: 40, O3: 60 },
    source: 'WHO global air quality guidelines 2021',
    note:
      'annual means for PM2.5, PM10 and NO2. WHO 2021 has no annual SO2 guideline: its 24-hour guideline ' +
      '(40 µg/m³) is used against the period mean, a lenient comparison. O3: the peak-season guideline ' +
      '(60 µg/m³, mean of the daily maximum 8-hour means over the six warmest months) against the period mean.',
  },
  'EN: EN: EQ: 1C': { value: 100, source: 'ICNIRP guidelines: every site is expected to comply' },
  'EN: EN: WS: 1C': { value: 100, source: 'SDG 6.1.1: safely managed drinking water for all' },
  'EC: I: WS: 1C': { value: 100, source: 'SDG 6.1: universal access to drinking water' },
  'EC: I: WS: 2C': { value: 100, source: 'SDG 6.1.1: safely managed drinking water for all' },
  'EC: I: WS: 5C': { value: 100, source: 'SDG 6.2: access to sanitation for all' },
  'EC: I: WA: 1C': { value: 100, source: 'SDG 11.6.1: municipal solid waste collected' },
  'EC: I: ES: 3C': { value: 100, source: 'SDG 7.1.1: universal access to electricity' },
  'EC: I: T: 5A': { value: 1.5, source: 'U4SSC Travel Time Index: 1.5 or below is good' },
  'SC: EH: ED: 2C': { value: 100, source: 'SDG 4.1: all children complete primary and secondary education' },
  'SC: EH: ED: 4C': { value: 100, source: 'SDG 4.6: all youth and most adults achieve literacy' },
  'SC: EH: H: 2C': { value: 70, source: 'SDG 3.1: maternal mortality below 70 per 100 000 live births' },
});

/** Band and points of a percentage (0..100). */
export function bandOf(percent: number): { points: ScorePoints; band: ScoreBand } {
  if (percent >= 95) return { points: 4, band: '95–100 %' };
  if (percent >= 66) return { points: 3, band: '66–95 %' };
  if (percent >= 33) return { points: 2, band: '33–66 %' };
  return { points: 1, band: '0–33 %' };
}

/**
 * Scores one value against its target. Higher is better: value ÷ target; lower is better: target ÷ value
 * (a value of 0 meets any target); closer to the target is better: the smaller of the two ratios. Capped at
 * 100 %. Null when the value is not reported, the target is not positive, or the KPI is a composition
 * (its parts are judged separately).
 */
export function scoreKpi(
  value: number | null,
  target: number | undefined,
  betterWhen: BetterWhen,
): Score | null {
  if (value === null || !Number.isFinite(value) || target === undefined || !(target > 0)) return null;
  let ratio: number;
  switch (betterWhen) {
    case 'higher':
      ratio = value / target;
      break;
    case 'lower':
      ratio = value <= 0 ? 1 : target / value;
      break;
    case 'target':
      ratio = value <= 0 ? 0 : Math.min(value / target, target / value);
      break;
    case 'composition':
      return null;
  }
  const percentOfTarget = Math.min(100, Math.max(0, ratio * 100));
  return { percentOfTarget, ...bandOf(percentOfTarget) };
}

export interface ScoredItem {
  code: string;
  /** set when a data point of a multi-point KPI is scored on its own */
  dataPoint?: string;
  score: Score;
}

/**
 * The scored items of one KPI value: one per data point when the target gives data-point targets (Air
 * Pollution: five), else one for the value. Empty when nothing can be scored.
 */
export function scoreKpiValue(
  kpi: { code: string; value: number | null; dataPoints: readonly DataPointValue[] },
  target: KpiTarget | undefined,
  betterWhen: BetterWhen,
): ScoredItem[] {
  if (target === undefined) return [];
  if (target.dataPoints !== undefined) {
    const out: ScoredItem[] = [];
    for (const dp of kpi.dataPoints) {
      const score = scoreKpi(dp.value, target.dataPoints[dp.name], betterWhen);
      if (score !== null) out.push({ code: kpi.code, dataPoint: dp.name, score });
    }
    return out;
  }
  const score = scoreKpi(kpi.value, target.value, betterWhen);
  return score === null ? [] : [{ code: kpi.code, score }];
}

export interface GroupScore {
  level: 'category' | 'sub-dimension' | 'dimension';
  dimension: string;
  subDimension?: string;
  category?: string;
  /** scored items (KPIs and data points) in the group */
  items: number;
  points: number;
  maxPoints: number;
  /** points ÷ maxPoints × 100 */
  percent: number;
  band: ScoreBand;
}

export interface AggregateScores {
  categories: GroupScore[];
  subDimensions: GroupScore[];
  dimensions: GroupScore[];
}

/**
 * Category, sub-dimension and dimension scores from scored items (KPIs or data points with their points).
 * Items of codes the catalogue does not know are ignored; groups without items are not listed. Each data
 * point scored on its own counts as one item, as it is benchmarked on its own.
 */
export function aggregateScores(
  items: ReadonlyArray<{ code: string; points: number } | ScoredItem>,
  catalogue: KpiCatalogue,
): AggregateScores {
  const groups = new Map<string, Omit<GroupScore, 'percent' | 'band'>>();
  const add = (
    key: string,
    base: Omit<GroupScore, 'percent' | 'band' | 'items' | 'points' | 'maxPoints'>,
    points: number,
  ) => {
    const g = groups.get(key) ?? { ...base, items: 0, points: 0, maxPoints: 0 };
    g.items++;
    g.points += points;
    g.maxPoints += 4;
    groups.set(key, g);
  };
  for (const item of items) {
    const kpi = catalogue.get(item.code);
    if (kpi === undefined) continue;
    const points = 'score' in item ? item.score.points : item.points;
    if (!(points >= 1 && points <= 4)) continue;
    const { dimension, subDimension, category } = kpi;
    add(`d\u0000${dimension}`, { level: 'dimension', dimension }, points);
    add(
      `s\u0000${dimension}\u0000${subDimension}`,
      { level: 'sub-dimension', dimension, subDimension },
      points,
    );
    add(
      `c\u0000${dimension}\u0000${subDimension}\u0000${category}`,
      { level: 'category', dimension, subDimension, category },
      points,
    );
  }
  const out: AggregateScores = { categories: [], subDimensions: [], dimensions: [] };
  for (const g of groups.values()) {
    const percent = (g.points / g.maxPoints) * 100;
    const scored: GroupScore = { ...g, percent, band: bandOf(percent).band };
    if (g.level === 'category') out.categories.push(scored);
    else if (g.level === 'sub-dimension') out.subDimensions.push(scored);
    else out.dimensions.push(scored);
  }
  return out;
}
