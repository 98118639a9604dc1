import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Clock, ClockTimer } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import type {
  DeviceEventAccepted,
  PlatformEvents,
  ReadingsAccepted,
  ReadingsRevised,
} from '../core/platform-events.ts';
import type { KpiCatalogue } from './catalogue/catalogue.ts';
import { formulasForKind } from './formulas/index.ts';
import { computeKpi } from './kpi-compute.ts';
import { type ContextDeps, runContext } from './kpi-context.ts';
import type { StatusRule } from './kpi-status.ts';
import type { KpiStore } from './kpi-store.ts';
import type { FormulaContext, KpiValue, Period, PeriodKind } from './kpi-types.ts';
import { scoreSummary, toView } from './kpi-views.ts';
import { monthOf, monthPeriod, monthToDate, rolling12Months, yearToDate } from './periods.ts';
import { CAUSE_DEVICES_MAX, type RestatementCause } from './rollup-types.ts';
import type { KpiTargets } from './targets.ts';

export const CURRENT_KINDS = ['month-to-date', 'year-to-date', 'rolling-12-months'] as const;
export type CurrentKind = (typeof CURRENT_KINDS)[number];

export interface KpiEngineDeps extends ContextDeps {
  kpiStore: KpiStore;
  catalogue: KpiCatalogue;
  targets: KpiTargets;
  clock: Clock;
  logger: Logger;
  events: PlatformEvents;
  /** Resolves once accepted readings are in the series store (IngestService.drain). */
  drain?: () => Promise<void>;
}

export interface KpiEngineOptions {
  /** How long after data arrives the touched KPIs recompute (ms); readings arriving meanwhile join in. */
  debounceMs: number;
  /**
   * Least time between two scheduled recomputes of the running periods (ms, on the clock): under a steady
   * stream every debounce would fire, and a recompute reads every series of a city. flush() and
   * computeAll() do not wait for it. Default 0.
   */
  minIntervalMs?: number;
  /** How long a recompute waits for ingest to reach the store before computing anyway (ms). Default 5 000. */
  drainTimeoutMs?: number;
}

/** Restates a closed period (month-close.ts): recompute, compare, new version if anything changed. */
export type Restater = (
  period: string,
  codes: ReadonlySet<string>,
  causes: RestatementCause[],
) => Promise<unknown>;

interface LateTouch {
  codes: Set<string>;
  readings: number;
  revisions: number;
  /** bounded by CAUSE_DEVICES_MAX each: the causes name devices, the counts stay exact */
  readingDevices: Set<string>;
  revisionDevices: Set<string>;
}

/**
 * Computes every KPI continuously: month to date, year to date and rolling 12 months are cached per KPI and
 * recomputed, after a debounce, for the formulas fed by the kind of device whose readings or events arrived
 * (formulasForKind). Readings stamped before the current month (late data, revisions) also recompute that
 * month, which restates it when it is closed. Changes are announced as `kpi-updated` for the live page.
 */
export class KpiEngine {
  private readonly deps: KpiEngineDeps;
  private readonly log: Logger;
  private readonly cache = new Map<string, Partial<Record<CurrentKind, KpiValue>>>();
  private pendingCodes = new Set<string>();
  private pendingLate = new Map<string, LateTouch>();
  private timer: ClockTimer | null = null;
  private chain: Promise<void> = Promise.resolve();
  private labels = '';
  private restater: Restater | null = null;
  private monthRange: { start: number; end: number; label: string } | null = null;
  private listening = false;
  /** clock.now() when the last scheduled recompute started (the minimum interval counts from it) */
  private lastRunAt = Number.NEGATIVE_INFINITY;

  constructor(
    deps: KpiEngineDeps,
    private readonly options: KpiEngineOptions,
  ) {
    this.deps = deps;
    this.log = deps.logger.child({ component: 'kpi-engine' });
  }

  setRestater(restater: Restater): void {
    this.restater = restater;
  }

  /** Listens to ingest events. */
  start(): void {
    if (this.listening) return;
    this.listening = true;
    this.deps.events.on('readings', this.onReadings);
    this.deps.events.on('device-event', this.onDeviceEvent);
    this.deps.events.on('readings-revised', this.onRevised);
  }

  /** Stops listening and waits for a recompute in progress. */
  async stop(): Promise<void> {
    this.deps.events.off('readings', this.onReadings);
    this.deps.events.off('device-event', this.onDeviceEvent);
    this.deps.events.off('readings-revised', this.onRevised);
    this.listening = false;
    this.timer?.cancel();
    this.timer = null;
    await this.chain;
  }

  /** The running period of a kind at `now`. */
  currentPeriod(kind: CurrentKind, now: number = this.deps.clock.now()): Period {
    const { calendar } = this.deps;
    if (kind === 'month-to-date') return monthToDate(calendar, now);
    if (kind === 'year-to-date') return yearToDate(calendar, now);
    return rolling12Months(calendar, now);
  }

  /**
   * Values of KPIs (all by default) over one period, read through one memoised context. `frozen`: the
   * period's roll-up is being frozen (a close or a restatement), so it counts as closed for its status.
   */
  async computePeriod(
    period: Period,
    codes?: ReadonlySet<string> | null,
    run?: { ctx: FormulaContext; now: number },
    opts: { frozen?: boolean } = {},
  ): Promise<Map<string, KpiValue>> {
    const now = run?.now ?? this.deps.clock.now();
    const ctx = run?.ctx ?? runContext(this.deps, now);
    const out = new Map<string, KpiValue>();
    const settings = { manual: this.deps.manual, status: this.statusRule(), logger: this.log };
    // a period closed on demand is closed before its grace period ends
    const frozen = opts.frozen ?? this.deps.kpiStore.latestRollup(period.label) !== null;
    for (const def of this.deps.catalogue.kpis) {
      if (codes != null && !codes.has(def.code)) continue;
      out.set(def.code, await computeKpi(settings, ctx, def, period, now, frozen));
      // Store reads are synchronous (SQLite): without a macrotask turn between KPIs a whole recompute
      // would hold the event loop, and with it ingest acknowledgements.
      await yieldToLoop();
    }
    return out;
  }

  /** The provisional/final rule with this city's calendar, grace days and capture threshold. */
  statusRule(): StatusRule {
    const { calendar, settings } = this.deps;
    return { calendar, graceDays: settings.closeGraceDays, captureThreshold: settings.captureThreshold };
  }

  /** Recomputes every KPI for the running periods now (start-up, month change, on demand). */
  computeAll(): Promise<void> {
    return this.enqueue(() => this.recompute(null));
  }

  /** Cached running values of a KPI (null until computed). */
  current(code: string): Record<CurrentKind, KpiValue | null> {
    const c = this.cache.get(code) ?? {};
    return {
      'month-to-date': c['month-to-date'] ?? null,
      'year-to-date': c['year-to-date'] ?? null,
      'rolling-12-months': c['rolling-12-months'] ?? null,
    };
  }

  /** Computes everything if nothing is cached yet or the running periods moved to a new month. */
  async ensureCurrent(): Promise<void> {
    if (this.labels !== this.labelsAt(this.deps.clock.now())) await this.computeAll();
  }

  /** Marks KPIs for recompute (a manual value or input changed) and schedules it. */
  invalidate(codes: Iterable<string>): void {
    for (const c of codes) this.pendingCodes.add(c);
    this.schedule();
  }

  /** Runs what is pending now instead of after the debounce; resolves when done. */
  flush(): Promise<void> {
    this.timer?.cancel();
    this.timer = null;
    return this.enqueue(() => this.runPending());
  }

  /** Monthly value of KPIs (closed or not), for trends and live roll-ups. */
  monthValues(label: string, codes?: ReadonlySet<string>): Promise<Map<string, KpiValue>> {
    return this.computePeriod(monthPeriod(this.deps.calendar, label), codes);
  }

  private readonly onReadings = (r: ReadingsAccepted): void => {
    this.touch(r.kind, r.values, 'reading', r.deviceId);
  };

  private readonly onDeviceEvent = (e: DeviceEventAccepted): void => {
    this.touch(e.kind, [e], 'reading', e.deviceId);
  };

  private readonly onRevised = (r: ReadingsRevised): void => {
    for (const rev of r.revisions) {
      const kind = this.deps.devices.get(rev.deviceId)?.kind;
      if (kind !== undefined) this.touch(kind, [rev], 'revision', rev.deviceId);
    }
  };

  /** O(readings) with no calendar work for the common case (readings of the current month). */
  private touch(
    kind: string,
    stamped: readonly { ts: number }[],
    what: 'reading' | 'revision',
    deviceId: string,
  ): void {
    const formulas = formulasForKind(kind);
    if (formulas.length === 0) return;
    for (const f of formulas) this.pendingCodes.add(f.code);
    const month = this.currentMonth();
    let range: { start: number; end: number; label: string } | null = null;
    for (const { ts } of stamped) {
      if (ts >= month.start) continue;
      if (range === null || ts < range.start || ts >= range.end) {
        const p = monthOf(this.deps.calendar, ts);
        range = { start: p.start, end: p.end, label: p.label };
      }
      let t = this.pendingLate.get(range.label);
      if (t === undefined) {
        if (this.pendingLate.size >= 120) continue; // bounded: ten years of months at most per recompute
        t = {
          codes: new Set(),
          readings: 0,
          revisions: 0,
          readingDevices: new Set(),
          revisionDevices: new Set(),
        };
        this.pendingLate.set(range.label, t);
      }
      for (const f of formulas) t.codes.add(f.code);
      const devices = what === 'reading' ? t.readingDevices : t.revisionDevices;
      if (devices.size < CAUSE_DEVICES_MAX) devices.add(deviceId);
      if (what === 'reading') t.readings++;
      else t.revisions++;
    }
    this.schedule();
  }

  private currentMonth(): { start: number; end: number; label: string } {
    const now = this.deps.clock.now();
    if (this.monthRange === null || now < this.monthRange.start || now >= this.monthRange.end) {
      const p = monthOf(this.deps.calendar, now);
      this.monthRange = { start: p.start, end: p.end, label: p.label };
    }
    return this.monthRange;
  }

  private schedule(): void {
    if (this.timer !== null) return;
    const { clock } = this.deps;
    // A wall clock set back must not hold recomputes for as long as it went back: at most minIntervalMs.
    const sinceLast = Math.max(0, clock.now() - this.lastRunAt);
    const delay = Math.max(this.options.debounceMs, (this.options.minIntervalMs ?? 0) - sinceLast);
    this.timer = clock.setTimeout(this.onDebounced, delay);
  }

  private readonly onDebounced = (): void => {
    this.timer = null;
    this.lastRunAt = this.deps.clock.now();
    void this.enqueue(() => this.runPending());
  };

  private enqueue(task: () => Promise<void>): Promise<void> {
    const next = this.chain.then(task).catch((err: unknown) => {
      this.log.error({ err }, 'KPI recompute failed');
    });
    this.chain = next;
    return next;
  }

  private async runPending(): Promise<void> {
    if (this.pendingCodes.size === 0 && this.pendingLate.size === 0) return;
    await this.waitForStore();
    const codes = this.pendingCodes;
    const late = this.pendingLate;
    this.pendingCodes = new Set();
    this.pendingLate = new Map();
    if (codes.size > 0) await this.recompute(codes);
    for (const [label, t] of late) {
      const year = label.slice(0, 4);
      const closed =
        this.deps.kpiStore.latestRollup(label) !== null || this.deps.kpiStore.latestRollup(year) !== null;
      if (!closed || this.restater === null) continue;
      // the month is closed: these readings arrived after its close
      const causes: RestatementCause[] = [];
      if (t.readings > 0)
        causes.push({ kind: 'late-data', readings: t.readings, devices: [...t.readingDevices].sort() });
      if (t.revisions > 0)
        causes.push({ kind: 'revision', readings: t.revisions, devices: [...t.revisionDevices].sort() });
      await this.restater(label, t.codes, causes);
    }
  }

  private async waitForStore(): Promise<void> {
    if (this.deps.drain === undefined) return;
    // A real timer, not the clock's: it bounds a wait for I/O (the store taking the backlog), during which a
    // test's clock does not move, and a hand-moved clock would leave the recompute waiting for ever.
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.options.drainTimeoutMs ?? 5_000);
      timer.unref();
    });
    await Promise.race([this.deps.drain(), timeout]);
    clearTimeout(timer);
  }

  private labelsAt(now: number): string {
    return CURRENT_KINDS.map((k) => this.currentPeriod(k, now).label).join('|');
  }

  /** Recomputes `codes` (all when null, or when the running periods changed month) and announces changes. */
  private async recompute(codes: ReadonlySet<string> | null): Promise<void> {
    const now = this.deps.clock.now();
    const labels = this.labelsAt(now);
    const all = codes === null || labels !== this.labels;
    // One context for the three periods: the device list is read once and reads are memoised for the run.
    const run = { ctx: runContext(this.deps, now), now };
    for (const kind of CURRENT_KINDS) {
      const period = this.currentPeriod(kind, now);
      const values = await this.computePeriod(period, all ? null : codes, run);
      for (const [code, v] of values) {
        const entry = this.cache.get(code) ?? {};
        const before = entry[kind];
        entry[kind] = v;
        this.cache.set(code, entry);
        if (before === undefined || changed(before, v)) this.announce(code, kind, v);
      }
    }
    this.labels = labels;
  }

  private announce(code: string, kind: PeriodKind, v: KpiValue): void {
    const def = this.deps.catalogue.get(code);
    if (def === undefined) return;
    try {
      this.deps.events.emit('kpi-updated', {
        code,
        periodKind: kind,
        value: toView(v),
        score: scoreSummary(v, def, this.deps.targets),
      });
    } catch (err) {
      this.log.error({ err }, 'kpi-updated listener threw');
    }
  }
}

const changed = (a: KpiValue, b: KpiValue): boolean =>
  a.value !== b.value ||
  a.period.label !== b.period.label ||
  a.completeness !== b.completeness ||
  a.dataQuality !== b.dataQuality ||
  a.status !== b.status ||
  a.source !== b.source ||
  a.dataPoints.some((d, i) => d.value !== b.dataPoints[i]?.value || d.status !== b.dataPoints[i]?.status);
