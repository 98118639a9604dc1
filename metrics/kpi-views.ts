import type { KpiDefinition } from './catalogue/catalogue.ts';
import { kpiIdentity } from './kpi-identity.ts';
import type { KpiStatus, StatusReason } from './kpi-status.ts';
import type { DataQuality, KpiValue } from './kpi-types.ts';
import type { RollupEntry } from './rollup-types.ts';
import { bandOf, scoreKpi, scoreKpiValue } from './scoring.ts';
import type { KpiTargets } from './targets.ts';

/** A KPI value as the API and the live page show it. */
export interface KpiValueView {
  value: number | null;
  unit: string;
  period: string;
  dataPoints: Array<{ name: string; value: number | null; unit: string }>;
  dataQuality: DataQuality;
  /** null: no reading was expected */
  completeness: number | null;
  /** the server's verdict (kpi-status.ts); the live page shows it as given */
  status: KpiStatus;
  /** which branch of the rule decided it (kpi-status.ts) */
  statusReason?: StatusReason;
  provisional: boolean;
  source: KpiValue['source'];
  computedAt: string;
}

export interface ScoreSummary {
  points: number;
  band: string;
  percentOfTarget: number;
}

export const toView = (v: KpiValue): KpiValueView => ({
  value: v.value,
  unit: v.unit,
  period: v.period.label,
  dataPoints: v.dataPoints.map((d) => ({ name: d.name, value: d.value, unit: d.unit })),
  dataQuality: v.dataQuality,
  completeness: v.completeness,
  status: v.status,
  ...(v.statusReason === undefined ? {} : { statusReason: v.statusReason }),
  provisional: v.provisional,
  source: v.source,
  computedAt: new Date(v.computedAt).toISOString(),
});

/**
 * One score for a KPI value: its own, or for a multi-point KPI scored per data point, the band of the mean
 * percentage of target of its scored data points.
 */
export function scoreSummary(
  v: KpiValue | null,
  def: KpiDefinition,
  targets: KpiTargets,
): ScoreSummary | null {
  if (v === null) return null;
  const items = scoreKpiValue(v, targets.get(def.code), def.betterWhen);
  if (items.length === 0) return null;
  if (items.length === 1) {
    const { points, band, percentOfTarget } = items[0]!.score;
    return { points, band, percentOfTarget };
  }
  const percent = items.reduce((n, i) => n + i.score.percentOfTarget, 0) / items.length;
  const b = bandOf(percent);
  return { points: b.points, band: b.band, percentOfTarget: percent };
}

/**
 * The roll-up rows of one KPI value: one per data point of a multi-point KPI (Air Pollution: five), else
 * one. Each scored against its own target; a data point's row has its own status and completeness where
 * the data point carries them (kpi-compute.ts), else the value's.
 */
export function toEntries(
  v: KpiValue,
  def: KpiDefinition,
  targets: KpiTargets,
  opts: { version: number },
): RollupEntry[] {
  const multi = def.dataPoints.length > 1;
  const rows = multi
    ? v.dataPoints.map((d) => ({
        dataPoint: d.name as string | null,
        value: d.value,
        unit: d.unit,
        completeness: d.completeness === undefined ? v.completeness : d.completeness,
        status: d.status ?? v.status,
      }))
    : [{ dataPoint: null, value: v.value, unit: v.unit, completeness: v.completeness, status: v.status }];
  return rows.map((row) => {
    const target = targets.valueFor(def.code, row.dataPoint);
    const score = scoreKpi(row.value, target ?? undefined, def.betterWhen);
    const reported = row.value !== null;
    return {
      ...kpiIdentity(def),
      dataPoint: row.dataPoint,
      value: row.value,
      unit: row.unit,
      period: v.period.label,
      dataQuality: reported ? v.dataQuality : null,
      completeness: reported || v.source !== 'manual' ? row.completeness : null,
      status: row.status,
      provisional: row.status !== 'final',
      source: reported || v.source !== 'manual' ? v.source : null,
      band: score?.band ?? null,
      points: score?.points ?? null,
      target,
      version: opts.version,
      lineage: v.lineage,
    };
  });
}
