import type { KpiDefinition } from './catalogue/catalogue.ts';
import { CURRENT_KINDS, type CurrentKind, type KpiEngine } from './kpi-engine.ts';
import { type KpiIdentity, kpiIdentity } from './kpi-identity.ts';
import type { KpiStore } from './kpi-store.ts';
import { type KpiValueView, type ScoreSummary, scoreSummary, toView } from './kpi-views.ts';
import type { Rollups, Trend } from './rollups.ts';
import type { KpiTargets } from './targets.ts';

/** A KPI as the list shows it: what it is, its running values, score against target and trend. */
export interface KpiListItem extends KpiIdentity {
  level: string;
  unit: string;
  obtained: string;
  betterWhen: string;
  target: number | null;
  current: Record<CurrentKind, KpiValueView | null>;
  score: ScoreSummary | null;
  trend: Trend;
}

export interface ListItemDeps {
  engine: KpiEngine;
  targets: KpiTargets;
  rollups: Rollups;
}

/** The values are the engine's current ones: the caller has made them current first. */
export function kpiListItem(def: KpiDefinition, { engine, targets, rollups }: ListItemDeps): KpiListItem {
  const cur = engine.current(def.code);
  const current = Object.fromEntries(
    CURRENT_KINDS.map((k) => [k, cur[k] === null ? null : toView(cur[k]!)]),
  ) as Record<CurrentKind, KpiValueView | null>;
  const t = targets.get(def.code);
  return {
    ...kpiIdentity(def),
    level: def.level,
    unit: def.unit,
    obtained: def.obtained,
    betterWhen: def.betterWhen,
    target: t?.value ?? (t?.dataPoints ? (t.dataPoints[def.dataPoints[0]!] ?? null) : null),
    current,
    score: scoreSummary(cur['year-to-date'] ?? cur['month-to-date'], def, targets),
    trend: rollups.trend(def.code),
  };
}

/** A KPI's entries in each closed month, newest version, without lineage (that has its own endpoint). */
export function closedMonthEntries(def: KpiDefinition, kpiStore: KpiStore) {
  return kpiStore.closedPeriods().map((label) => {
    const r = kpiStore.latestRollup(label)!;
    return {
      period: label,
      version: r.version,
      closedAt: new Date(r.closedAt).toISOString(),
      entries: r.entries.filter((e) => e.code === def.code).map(({ lineage: _l, ...e }) => e),
    };
  });
}
