import type { CityCalendar } from '../core/city-calendar.ts';
import { CityError } from '../core/errors.ts';
import type { KpiDefinition } from './catalogue/catalogue.ts';
import type { KpiEngine } from './kpi-engine.ts';
import {
  closesAt,
  describeVerdict,
  type KpiStatus,
  kpiVerdict,
  type StatusReason,
  type StatusVerdict,
} from './kpi-status.ts';
import type { KpiStore } from './kpi-store.ts';
import type { Lineage } from './kpi-types.ts';
import { toView } from './kpi-views.ts';
import { isCalendarPeriod, periodFromLabel } from './periods.ts';

/**
 * Why a value is what it is: the value and its lineage for a period label (default: month to date), with
 * its status and the reason for it in words (the rule of kpi-status.ts, with this city's capture threshold
 * and grace days). A closed period answers from its newest stored version; an open one is computed now.
 */
export async function kpiLineage(
  def: KpiDefinition,
  periodLabel: string | undefined,
  deps: { engine: KpiEngine; kpiStore: KpiStore; calendar: CityCalendar; now: number },
) {
  const { engine, kpiStore, calendar, now } = deps;
  const period =
    periodLabel === undefined
      ? engine.currentPeriod('month-to-date', now)
      : periodFromLabel(calendar, periodLabel, now);
  if (period === null)
    throw new CityError('METRICS_PERIOD_INVALID', `not a period label: ${periodLabel}`, {
      field: 'period',
    });
  const rule = engine.statusRule();
  const stored = kpiStore.latestRollup(period.label);
  const statusOf = (v: {
    completeness: number | null;
    status: KpiStatus;
    statusReason?: StatusReason;
    value: number | null;
  }) => {
    const input = { period, completeness: v.completeness, hasValue: v.value !== null };
    let verdict: StatusVerdict =
      v.statusReason === undefined
        ? kpiVerdict(input, rule, now, stored !== null)
        : { status: v.status, reason: v.statusReason };
    // the one input a stored entry does not keep: a carried-forward manual figure made it provisional
    if (verdict.status !== v.status && v.status === 'provisional')
      verdict = { status: 'provisional', reason: 'input-provisional' };
    return {
      status: v.status,
      statusReason: verdict.reason,
      statusWhy: describeVerdict(verdict, input, rule),
      captureThreshold: rule.captureThreshold,
      closesAt: isCalendarPeriod(period)
        ? new Date(closesAt(calendar, period, rule.graceDays)).toISOString()
        : null,
    };
  };
  if (stored !== null) {
    const entries = stored.entries.filter((e) => e.code === def.code);
    const first = entries[0];
    return {
      code: def.code,
      period: period.label,
      closed: true,
      version: stored.version,
      value: first?.value ?? null,
      ...(first === undefined ? {} : statusOf(first)),
      entries: entries.map(({ lineage: _l, ...e }) => e),
      lineage: (first?.lineage ?? null) as Lineage | null,
    };
  }
  const v = (await engine.computePeriod(period, new Set([def.code]))).get(def.code)!;
  return {
    code: def.code,
    period: period.label,
    closed: false,
    version: 0,
    value: v.value,
    ...statusOf(v),
    view: toView(v),
    lineage: v.lineage,
  };
}
