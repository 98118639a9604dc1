import { z } from 'zod';
import 'zod-openapi';
import type { KpiDefinition } from './catalogue/catalogue.ts';
import { kpiIdentity } from './kpi-identity.ts';
import { KPI_STATUSES, STATUS_REASONS } from './kpi-status.ts';
import { DATA_QUALITY_CLASSES, type KpiValue } from './kpi-types.ts';
import type { RollupEntry } from './rollup-types.ts';
import { bandOf, scoreKpi, scoreKpiValue } from './scoring.ts';
import type { KpiTargets } from './targets.ts';

/** The data-quality classes as the API declares them. */
export const dataQualitySchema = z.enum(DATA_QUALITY_CLASSES);

/**
 * A KPI value as the API and the live page show it: the type is inferred from this schema, which the API
 * declares, so the two cannot drift apart.
 */
export const kpiValueViewSchema = z
  .object({
    value: z.number().nullable().meta({ description: 'null = not reported (NR)' }),
    unit: z.string(),
    period: z.string().meta({ example: '2026-03-mtd' }),
    dataPoints: z.array(
      z.object({
        name: z.string(),
        value: z.number().nullable(),
        unit: z.string(),
        completeness: z.number().min(0).max(1).nullable().optional().meta({
          description:
            'of a data point measured apart (Air Pollution: by the stations measuring that pollutant): its own received ÷ expected readings; null = none was owed',
        }),
        status: z.enum(KPI_STATUSES).optional().meta({
          description:
            "of a multi-point KPI: this data point's own verdict under the same rule, from its own value and completeness (a pollutant no station measures is never final beside a complete PM2.5)",
        }),
        statusReason: z.enum(STATUS_REASONS).optional(),
      }),
    ),
    dataQuality: dataQualitySchema,
    completeness: z.number().nullable().meta({ description: '0..1; null = no reading was expected' }),
    status: z.enum(KPI_STATUSES).meta({
      description:
        'final only once the period has closed (end + KPI_CLOSE_GRACE_DAYS, or closed on demand) with completeness at or above KPI_CAPTURE_THRESHOLD; running periods are always provisional',
    }),
    statusReason: z.enum(STATUS_REASONS).optional().meta({
      description:
        'which branch of the rule decided the status: running-period and grace-period (not closed yet), below-capture, input-provisional, not-reported, unowed-readings, nothing-expected; complete is final',
    }),
    provisional: z.boolean().meta({ description: 'status is not final' }),
    source: z.enum(['sensor', 'registry', 'manual', 'mixed', 'override']),
    computedAt: z.string(),
  })
  .meta({ id: 'KpiValue' });

export type KpiValueView = z.infer<typeof kpiValueViewSchema>;

export interface ScoreSummary {
  points: number;
  band: string;
  percentOfTarget: number;
}

export const toView = (v: KpiValue): KpiValueView => ({
  value: v.value,
  unit: v.unit,
  period: v.period.label,
  // A data point's own completeness and verdict go with it where it has them (a multi-point KPI).
  dataPoints: v.dataPoints.map((d) => ({
    name: d.name,
    value: d.value,
    unit: d.unit,
    ...(d.completeness === undefined ? {} : { completeness: d.completeness }),
    ...(d.status === undefined ? {} : { status: d.status }),
    ...(d.statusReason === undefined ? {} : { statusReason: d.statusReason }),
  })),
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
