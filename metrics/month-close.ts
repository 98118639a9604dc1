import type { CityCalendar } from '../core/city-calendar.ts';
import type { Clock, ClockTimer } from '../core/clock.ts';
import { CityError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { PlatformEvents, RollupSaved } from '../core/platform-events.ts';
import type { DeviceSource } from './kpi-context.ts';
import { closesAt } from './kpi-status.ts';
import type { KpiStore } from './kpi-store.ts';
import { monthOf, monthPeriod } from './periods.ts';
import {
  describeCauses,
  entryKey,
  type RestatementCause,
  type RestatementRecord,
  type RollupEntry,
  type StoredRollup,
} from './rollup-types.ts';
import type { Rollups } from './rollups.ts';

export interface MonthCloseOptions {
  /** days after a month ends before it closes by itself (KPI_CLOSE_GRACE_DAYS) */
  graceDays: number;
  /** how often the scheduler looks for months due (ms). Default one minute. */
  checkIntervalMs?: number;
  /** how far back the scheduler closes months the platform had data for. Default 24. */
  maxBackMonths?: number;
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/**
 * Month close and restatements: a month's roll-up is frozen as version 1 once the grace
 * period for late data has passed (or when an analyst closes it), December's close freezes the year too.
 * Whatever changes a closed period later (late readings, revisions, a manual value, the city profile, a
 * target) recomputes it: each entry whose value, target, status or completeness changed gets one
 * restatement row (old and new value, status and completeness, causes; a `status` cause when the status or
 * completeness moved) in one new version; nothing changed, no version. Closes and restatements run one at
 * a time.
 */
export class MonthClose {
  private chain: Promise<unknown> = Promise.resolve();
  private timer: ClockTimer | null = null;
  private readonly log: Logger;

  constructor(
    private readonly deps: {
      rollups: Rollups;
      kpiStore: KpiStore;
      devices: DeviceSource;
      calendar: CityCalendar;
      clock: Clock;
      events: PlatformEvents;
      logger: Logger;
    },
    private readonly options: MonthCloseOptions,
  ) {
    this.log = deps.logger.child({ component: 'month-close' });
  }

  start(): void {
    if (this.timer !== null) return;
    this.timer = this.deps.clock.setInterval(() => void this.tick(), this.options.checkIntervalMs ?? 60_000);
  }

  async stop(): Promise<void> {
    this.timer?.cancel();
    this.timer = null;
    await this.chain.catch(() => {});
  }

  /** Months past their grace period and not closed, oldest first (from the first device's month). */
  dueMonths(now: number = this.deps.clock.now()): string[] {
    const { calendar } = this.deps;
    let first = Number.POSITIVE_INFINITY;
    const all = this.deps.devices.all?.(); // one pass; paging a big registry costs O(n²/page)
    // from the earliest installation: a back-filled device owes months before it was provisioned
    if (all !== undefined) for (const d of all) first = Math.min(first, d.installedAt);
    else
      for (let offset = 0; ; offset += 1000) {
        const page = this.deps.devices.list({ limit: 1000, offset });
        for (const d of page.items) first = Math.min(first, d.installedAt);
        if (page.items.length < 1000) break;
      }
    if (!Number.isFinite(first)) return [];
    const earliest = calendar
      .local(now)
      .startOf('month')
      .minus({ months: this.options.maxBackMonths ?? 24 });
    let cursor = calendar.local(Math.max(first, earliest.toMillis())).startOf('month');
    const out: string[] = [];
    for (;;) {
      const end = cursor.plus({ months: 1 });
      if (closesAt(calendar, { end: end.toMillis() }, this.options.graceDays) > now) break;
      const label = `${cursor.year}-${pad2(cursor.month)}`;
      if (this.deps.kpiStore.latestRollup(label) === null) out.push(label);
      cursor = end;
    }
    return out;
  }

  /** Closes every month due now. */
  tick(): Promise<StoredRollup[]> {
    return this.serial(async () => {
      const closed: StoredRollup[] = [];
      for (const label of this.dueMonths()) closed.push(...(await this.closeNow(label, 'scheduler')));
      return closed;
    });
  }

  /**
   * Closes a month (`YYYY-MM`) or a year (`YYYY`) on demand. METRICS_PERIOD_NOT_ENDED before its end,
   * METRICS_ALREADY_CLOSED when it is. Returns the frozen roll-ups (a December close freezes the year too).
   */
  close(label: string, closedBy: string): Promise<StoredRollup[]> {
    return this.serial(() => this.closeNow(label, closedBy, true));
  }

  /** Recomputes `codes` (all when null) of a closed period; a changed entry makes one restatement. */
  restate(
    label: string,
    codes: ReadonlySet<string> | null,
    causes: readonly RestatementCause[],
  ): Promise<RestatementRecord[]> {
    return this.serial(() => this.restateNow(label, codes, causes));
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.chain.then(task, task);
    this.chain = run.catch(() => {});
    return run;
  }

  private async closeNow(label: string, closedBy: string, strict = false): Promise<StoredRollup[]> {
    const { rollups, kpiStore, clock } = this.deps;
    const period = rollups.period(label);
    if (period.kind === 'quarter')
      throw new CityError('METRICS_PERIOD_INVALID', 'months and years close, quarters follow from months', {
        field: 'period',
      });
    const now = clock.now();
    if (now < period.end)
      throw new CityError(
        'METRICS_PERIOD_NOT_ENDED',
        `${period.label} ends ${new Date(period.end).toISOString()}`,
      );
    const out: StoredRollup[] = [];
    if (kpiStore.latestRollup(period.label) !== null) {
      if (strict) throw new CityError('METRICS_ALREADY_CLOSED', `${period.label} is closed already`);
    } else {
      const entries = await rollups.build(period, { version: 1, closed: true });
      const rollup: StoredRollup = {
        period: period.label,
        version: 1,
        closedAt: now,
        closedBy,
        cause: 'closed',
        causes: [],
        entries,
      };
      // Another node (a kpi leader before a takeover, an api node) may have closed it a moment ago: a
      // period version is written once, and theirs stands.
      if (await kpiStore.saveRollup(rollup)) {
        out.push(rollup);
        this.emitSaved({ period: period.label, version: 1, cause: 'closed', at: now });
      } else if (strict) throw new CityError('METRICS_ALREADY_CLOSED', `${period.label} is closed already`);
    }
    const year = period.label.slice(0, 4);
    if (period.kind === 'month' && period.label.endsWith('-12') && kpiStore.latestRollup(year) === null)
      out.push(...(await this.closeNow(year, closedBy)));
    return out;
  }

  private async restateNow(
    label: string,
    codes: ReadonlySet<string> | null,
    causes: readonly RestatementCause[],
    attempt = 1,
  ): Promise<RestatementRecord[]> {
    const { rollups, kpiStore, clock, events } = this.deps;
    const cause = describeCauses(causes);
    const out: RestatementRecord[] = [];
    const latest = kpiStore.latestRollup(label);
    if (latest !== null) {
      const version = latest.version + 1;
      const period = rollups.period(label);
      const fresh = await rollups.build(period, { version, closed: true, codes });
      const byKey = new Map(fresh.map((e) => [entryKey(e), e]));
      const at = clock.now();
      const entries: RollupEntry[] = latest.entries.map((old) => {
        const next = byKey.get(entryKey(old));
        if (next === undefined) return old;
        // An assessment takes a month's status as it stands: late readings that complete a month move it
        // from provisional to final with its mean unchanged, and a frozen "provisional" would stand wrong.
        const statusMoved = !sameStatus(old, next);
        // a new target re-scores the entry: its band and points change with the value unchanged
        if (sameValue(old.value, next.value) && old.target === next.target && !statusMoved) return old;
        const status = {
          oldStatus: old.status ?? null,
          newStatus: next.status,
          oldCompleteness: old.completeness ?? null,
          newCompleteness: next.completeness,
        };
        const rowCauses: RestatementCause[] = statusMoved
          ? [...causes, { kind: 'status', code: old.code, dataPoint: old.dataPoint, ...status }]
          : [...causes];
        out.push({
          period: label,
          version,
          code: old.code,
          dataPoint: old.dataPoint,
          oldValue: old.value,
          newValue: next.value,
          ...status,
          cause: describeCauses(rowCauses),
          causes: rowCauses,
          at,
        });
        return next;
      });
      if (out.length > 0) {
        const saved = await kpiStore.saveRollup(
          {
            period: label,
            version,
            closedAt: at,
            closedBy: latest.closedBy,
            cause,
            causes: [...causes],
            entries,
          },
          out,
        );
        // Another node restated it first (this copy was a version behind): compare again with theirs.
        if (!saved) {
          if (attempt >= 5)
            throw new CityError(
              'API_CONFLICT',
              `${label}: restatement lost ${attempt} races for the next version; retried on the next change`,
            );
          return this.restateNow(label, codes, causes, attempt + 1);
        }
        for (const r of out) {
          try {
            events.emit('kpi-revised', { ...r });
          } catch (err) {
            this.log.error({ err }, 'kpi-revised listener threw');
          }
        }
        this.emitSaved({ period: label, version, cause: 'restated', at });
      }
    }
    // a closed year holds the month: restate it too (its own entries and versions)
    if (/^\d{4}-\d{2}$/.test(label) && kpiStore.latestRollup(label.slice(0, 4)) !== null)
      out.push(...(await this.restateNow(label.slice(0, 4), codes, causes)));
    return out;
  }

  /** A listener that throws must not undo a roll-up already stored. */
  private emitSaved(saved: RollupSaved): void {
    try {
      this.deps.events.emit('rollup-saved', saved);
    } catch (err) {
      this.log.error({ err }, 'rollup-saved listener threw');
    }
  }

  /** Closed periods that an entry for `label` (a month, quarter or year) can change: those ending after it starts. */
  closedPeriodsFrom(label: string): string[] {
    const start = this.deps.rollups.period(label).start;
    return this.deps.kpiStore.closedPeriods().filter((p) => this.deps.rollups.period(p).end > start);
  }

  /** The month holding an instant, as a label. */
  monthLabel(ts: number): string {
    return monthOf(this.deps.calendar, ts).label;
  }

  /** A month period (exposed for tests and the CLI). */
  month(label: string) {
    return monthPeriod(this.deps.calendar, label);
  }
}

/**
 * The same status, and the same completeness but for floating noise. An entry frozen before entries kept a
 * status (none in its JSON) differs from any status now.
 */
function sameStatus(a: RollupEntry, b: RollupEntry): boolean {
  return a.status === b.status && sameValue(a.completeness ?? null, b.completeness);
}

/** Equal, or both NR; floating noise from summing in another order is not a restatement. */
function sameValue(a: number | null, b: number | null): boolean {
  if (a === null || b === null) return a === b;
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}
