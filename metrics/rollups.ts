import type { CityCalendar } from '../core/city-calendar.ts';
import type { Clock } from '../core/clock.ts';
import { CityError } from '../core/errors.ts';
import type { KpiCatalogue } from './catalogue/catalogue.ts';
import type { KpiEngine } from './kpi-engine.ts';
import type { KpiStore } from './kpi-store.ts';
import type { Period } from './kpi-types.ts';
import { toEntries } from './kpi-views.ts';
import { parsePeriodLabel, periodFromLabel, previousPeriod } from './periods.ts';
import type { RollupEntry } from './rollup-types.ts';
import { type AggregateScores, aggregateScores } from './scoring.ts';
import type { KpiTargets } from './targets.ts';

export interface RollupView {
  period: string;
  version: number;
  closed: boolean;
  closedAt?: string;
  closedBy?: string;
  entries: RollupEntry[];
  scores: AggregateScores;
}

export interface Trend {
  /** % change of the last closed month against the month before; null if either is NR or 0 */
  monthOverMonth: number | null;
  /** % change of the last closed month against the same month a year earlier */
  yearOverYear: number | null;
}

/**
 * Roll-ups of a month, quarter or year: one entry per KPI and data point. A closed period answers its newest
 * frozen version; an open one is computed now and marked provisional (version 0).
 */
export class Rollups {
  constructor(
    private readonly deps: {
      engine: KpiEngine;
      kpiStore: KpiStore;
      catalogue: KpiCatalogue;
      targets: KpiTargets;
      calendar: CityCalendar;
      clock: Clock;
    },
  ) {}

  /** A calendar period from `YYYY-MM`, `YYYY-Qn` or `YYYY`; METRICS_PERIOD_INVALID otherwise. */
  period(label: string): Period {
    const parsed = parsePeriodLabel(label);
    const p = parsed === null ? null : periodFromLabel(this.deps.calendar, label);
    if (p === null || !['month', 'quarter', 'year'].includes(p.kind))
      throw new CityError(
        'METRICS_PERIOD_INVALID',
        `not a month (YYYY-MM), quarter (YYYY-Qn) or year (YYYY): ${label}`,
        {
          field: 'period',
        },
      );
    return p;
  }

  /** Entries computed now (of `codes`, or all) for a calendar period. */
  async build(
    period: Period,
    opts: { version: number; closed: boolean; codes?: ReadonlySet<string> | null },
  ): Promise<RollupEntry[]> {
    const values = await this.deps.engine.computePeriod(period, opts.codes ?? null, undefined, {
      frozen: opts.closed,
    });
    const out: RollupEntry[] = [];
    for (const [code, v] of values) {
      const def = this.deps.catalogue.get(code);
      if (def !== undefined) out.push(...toEntries(v, def, this.deps.targets, opts));
    }
    return out;
  }

  async view(label: string): Promise<RollupView> {
    const period = this.period(label);
    const stored = this.deps.kpiStore.latestRollup(period.label);
    if (stored !== null) {
      return {
        period: period.label,
        version: stored.version,
        closed: true,
        closedAt: new Date(stored.closedAt).toISOString(),
        closedBy: stored.closedBy,
        entries: stored.entries,
        scores: this.scores(stored.entries),
      };
    }
    const entries = await this.build(period, { version: 0, closed: false });
    return { period: period.label, version: 0, closed: false, entries, scores: this.scores(entries) };
  }

  scores(entries: readonly RollupEntry[]): AggregateScores {
    const items = entries.filter((e) => e.points !== null).map((e) => ({ code: e.code, points: e.points! }));
    return aggregateScores(items, this.deps.catalogue);
  }

  /**
   * Month over month and year over year of a KPI, from closed months (frozen figures an assessment can
   * cite): the newest closed month against the one before and the same month a year earlier.
   */
  trend(code: string): Trend {
    const months = this.deps.kpiStore.closedPeriods().filter((p) => /^\d{4}-\d{2}$/.test(p));
    const last = months.at(-1);
    if (last === undefined) return { monthOverMonth: null, yearOverYear: null };
    const period = this.period(last);
    const prev = previousPeriod(this.deps.calendar, period).label;
    const yearAgo = `${Number(last.slice(0, 4)) - 1}${last.slice(4)}`;
    const now = this.closedValue(last, code);
    return {
      monthOverMonth: change(now, this.closedValue(prev, code)),
      yearOverYear: change(now, this.closedValue(yearAgo, code)),
    };
  }

  /** The KPI's value in the newest version of a closed period (first data point of a multi-point KPI). */
  closedValue(label: string, code: string): number | null {
    const entries = this.deps.kpiStore.latestRollup(label)?.entries;
    return entries?.find((e) => e.code === code)?.value ?? null;
  }
}

const change = (now: number | null, before: number | null): number | null =>
  now === null || before === null || before === 0 ? null : ((now - before) / Math.abs(before)) * 100;
