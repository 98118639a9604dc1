import type { Clock, ClockTimer } from '../core/clock.ts';
import { CityError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type {
  KpiUpdated,
  MessageRefused,
  PlatformEvents,
  ReadingsAccepted,
} from '../core/platform-events.ts';
import type { DeviceRecord } from '../core/ports/device-directory.ts';
import type { ListFilter } from '../devices/registry-schema.ts';
import { AlertLifecycle, newAlertId } from './alert-lifecycle.ts';
import type { AlertQuery, AlertRecords, AlertRecordsSnapshot } from './alert-records.ts';
import type { AlertService } from './alert-service.ts';
import {
  type Alert,
  type AlertRule,
  type RuleInput,
  ruleInputSchema,
  type StaleDevice,
} from './alert-types.ts';
import { AlertWrites } from './alert-writes.ts';
import { ClearDelay } from './conditions/clear-delay.ts';
import { judgeKpiThreshold, normKpiCode } from './conditions/kpi-threshold.ts';
import { RefusedLastMinute } from './conditions/refused-spike.ts';
import { SeriesThresholdState } from './conditions/series-threshold-state.ts';
import { judgeStaleDevices } from './conditions/stale-device.ts';
import { storeBacklogOf } from './conditions/store-backlog.ts';
import { SqliteAlertRecords } from './sqlite-alert-records.ts';
import { type WebhookCounters, WebhookNotifier, type WebhookOptions } from './webhook-notifier.ts';

/**
 * The alert rules engine. Series thresholds are evaluated on the `readings` events (O(1) per value per
 * matching rule, no I/O unless an alert changes state); stale devices, refused-message spikes and store
 * backlog are checked by `tick()`, which a timer on the injected clock calls every `checkIntervalMs` (tests
 * move a ManualClock, or call it themselves). The engine decides whether a condition holds (with each rule's
 * duration, clearing margin and time); AlertLifecycle keeps the alerts: unique per (rule, subject) while
 * active, open → acknowledged → cleared, a quick reopening counted as a repeat, each step stored, told to
 * `onChange` listeners (the live hub pushes it) and, on open and clear, to the rule's webhook.
 */

export interface AlertEngineDeps {
  cityName: string;
  events: PlatformEvents;
  registry: {
    list(filter: ListFilter): { items: readonly DeviceRecord[]; total: number };
    /** Every device in one pass (optional): paging a big registry per check costs O(n²/page). */
    all?(): readonly DeviceRecord[];
  };
  kinds: { get(id: string): { intervalSec: number } | undefined };
  ingest: { stats(): { backlog?: unknown } };
  clock: Clock;
  logger: Logger;
}

export interface AlertEngineOptions {
  /** Period of the stale / spike / backlog checks, ms; 0 = no timer (call tick()). Default 15 000. */
  checkIntervalMs?: number;
  /** Cleared alerts are kept this long, days. Default 90. */
  retentionDays?: number;
  webhook?: WebhookOptions;
  /** A write the records refused is tried again after this, ms. Default 1 000. */
  writeRetryMs?: number;
}

/** How long a read waits for the changes before it to be stored (ms). */
const READ_WAIT_MS = 2_000;

/** The longest repeat window a rule may have (its schema's bound), so clearances older than it are let go. */
const MAX_REPEAT_WINDOW_MS = 7 * 86_400_000;

/** A KPI value as the KPI engine announces it (`kpi-updated`; its value view carries `value`). */
export interface KpiUpdate {
  code: string;
  periodKind: string;
  value: unknown;
}

export class AlertEngine implements AlertService {
  private readonly log: Logger;
  private rulesById = new Map<string, AlertRule>();
  private seriesStates = new Map<string, SeriesThresholdState>();
  private readonly alerts: AlertLifecycle;
  private readonly clearDelay = new ClearDelay();
  private readonly refused: RefusedLastMinute;
  private readonly webhook: WebhookNotifier;
  private readonly timer: ClockTimer | null;
  private readonly retentionMs: number;
  private readonly writes: AlertWrites;
  private pruning = false;
  private closed = false;

  private constructor(
    private readonly deps: AlertEngineDeps,
    private readonly records: AlertRecords,
    snapshot: AlertRecordsSnapshot,
    options: AlertEngineOptions,
  ) {
    this.log = deps.logger.child({ component: 'alerts' });
    this.webhook = new WebhookNotifier(this.log, options.webhook);
    this.retentionMs = (options.retentionDays ?? 90) * 86_400_000;
    this.writes = new AlertWrites(this.log, deps.clock, options.writeRetryMs);
    this.refused = new RefusedLastMinute(deps.clock);
    for (const rule of snapshot.rules) this.rulesById.set(rule.id, rule);
    this.rebuildSeriesStates();
    this.alerts = new AlertLifecycle({
      records,
      writes: this.writes,
      snapshot,
      webhook: this.webhook,
      clock: deps.clock,
      log: this.log,
      cityName: deps.cityName,
      rule: (id) => this.rulesById.get(id),
    });
    deps.events.on('readings', this.onReadings);
    deps.events.on('refused', this.onRefused);
    deps.events.on('kpi-updated', this.onKpi);
    const every = options.checkIntervalMs ?? 15_000;
    this.timer = every > 0 ? deps.clock.setInterval(() => this.tick(), every) : null;
  }

  /** The single process's engine, on `<dataDir>/alerts.db`. */
  static open(
    deps: AlertEngineDeps & { dataDir: string },
    options: AlertEngineOptions = {},
  ): Promise<AlertEngine> {
    return AlertEngine.openOn(deps, SqliteAlertRecords.open({ dataDir: deps.dataDir }), options);
  }

  /**
   * The engine on the given records (PostgreSQL on a cluster's kpi leader), continuing the alerts they hold.
   * The engine owns the records from here: close() closes them, and so does a failed open.
   */
  static async openOn(
    deps: AlertEngineDeps,
    records: AlertRecords,
    options: AlertEngineOptions = {},
  ): Promise<AlertEngine> {
    try {
      const snapshot = await records.load(deps.clock.now() - MAX_REPEAT_WINDOW_MS);
      return new AlertEngine(deps, records, snapshot, options);
    } catch (err) {
      await records.close().catch(() => undefined);
      throw err;
    }
  }

  /** Resolves once every change decided so far is in the records, or after `timeoutMs`. */
  stored(timeoutMs?: number): Promise<void> {
    return this.writes.idle(timeoutMs);
  }

  /** Alert changes decided and not yet stored (the records are unreachable while this grows). */
  get pendingWrites(): number {
    return this.writes.pending;
  }

  // ---- rules ----

  rules(): AlertRule[] {
    return [...this.rulesById.values()];
  }

  /**
   * Stored before it takes effect: a rule the records refuse (a full disk, PostgreSQL down) is an error to
   * the caller, never a 201 that a crash would forget.
   */
  async createRule(input: RuleInput, createdBy: string): Promise<AlertRule> {
    const parsed = ruleInputSchema.parse(input);
    const rule: AlertRule = {
      id: newAlertId('r'),
      name: parsed.name,
      severity: parsed.severity,
      condition: parsed.condition,
      webhookUrl: parsed.webhookUrl ?? null,
      enabled: parsed.enabled,
      repeatWindowMinutes: parsed.repeatWindowMinutes,
      createdBy,
      createdAt: this.deps.clock.now(),
    };
    await this.records.insertRule(rule);
    this.rulesById.set(rule.id, rule);
    this.rebuildSeriesStates();
    this.log.info({ ruleId: rule.id, kind: rule.condition.kind, by: createdBy }, 'alert rule created');
    return rule;
  }

  /** Deletes a rule (stored first, as a creation is); its active alerts are cleared ("rule deleted"). */
  async deleteRule(id: string, by: string): Promise<void> {
    if (!this.rulesById.has(id)) throw new CityError('API_NOT_FOUND', `no alert rule ${id}`, { field: 'id' });
    await this.records.deleteRule(id);
    if (!this.rulesById.has(id)) return; // deleted meanwhile by another call
    for (const alert of this.alerts.activeAlerts()) {
      if (alert.ruleId === id) this.alerts.clear(alert, `rule deleted by ${by}`, alert.lastValue);
    }
    this.rulesById.delete(id);
    this.clearDelay.forget(id);
    this.rebuildSeriesStates();
    this.log.info({ ruleId: id, by }, 'alert rule deleted');
  }

  // ---- alerts ----

  /**
   * Reads the records once the changes decided so far are stored, so a list shows what was just decided;
   * records that cannot take writes for READ_WAIT_MS are read as they are.
   */
  async list(query: AlertQuery = {}): Promise<{ items: Alert[]; total: number }> {
    await this.writes.idle(READ_WAIT_MS);
    return this.records.listAlerts(query);
  }

  async get(id: string): Promise<Alert> {
    await this.writes.idle(READ_WAIT_MS);
    const alert = await this.records.getAlert(id);
    if (!alert) throw new CityError('API_NOT_FOUND', `no alert ${id}`, { field: 'id' });
    return alert;
  }

  async acknowledge(id: string, by: string): Promise<Alert> {
    const alert = await this.alerts.activeById(id);
    if (alert.state !== 'open') throw new CityError('API_CONFLICT', `alert ${id} is already ${alert.state}`);
    this.alerts.acknowledge(alert, by);
    return { ...alert };
  }

  /** Clears an alert by hand (the condition may still hold: it opens again when next evaluated). */
  async clear(id: string, by: string): Promise<Alert> {
    const alert = await this.alerts.activeById(id);
    this.alerts.clear(alert, by, alert.lastValue);
    return { ...alert };
  }

  /** Listens to every change of an alert (opened, acknowledged, cleared); returns the unsubscribe. */
  onChange(listener: (alert: Alert) => void): () => void {
    return this.alerts.onChange(listener);
  }

  get webhookCounters(): Readonly<WebhookCounters> {
    return this.webhook.counters;
  }

  /** Waits for the webhook requests in flight (each bounded by its timeout). */
  drainWebhooks(): Promise<void> {
    return this.webhook.drain();
  }

  // ---- evaluation ----

  /** A KPI value from the KPI engine: evaluates the kpi-threshold rules on it. */
  offerKpi(update: KpiUpdate): void {
    const value = (update.value as { value?: unknown } | null | undefined)?.value;
    const code = normKpiCode(update.code);
    for (const rule of this.rulesById.values()) {
      const c = rule.condition;
      if (!rule.enabled || c.kind !== 'kpi-threshold') continue;
      if (normKpiCode(c.code) !== code || c.periodKind !== update.periodKind) continue;
      const verdict = judgeKpiThreshold(c, value);
      if (verdict === 'no-value' || typeof value !== 'number') continue;
      if (verdict === 'between') {
        const alert = this.alerts.activeOf(rule.id, update.code);
        if (alert) alert.lastValue = value;
        continue;
      }
      this.alerts.apply(
        rule,
        update.code,
        'kpi',
        verdict === 'holds',
        value,
        () => `${update.code} ${c.op} ${c.value}: ${fmt(value)}`,
      );
    }
  }

  /** Stale devices, refused-message spikes and store backlog; the timer calls this. */
  tick(): void {
    if (this.closed) return;
    const now = this.deps.clock.now();
    for (const rule of this.rulesById.values()) {
      if (!rule.enabled) continue;
      const c = rule.condition;
      if (c.kind === 'stale-device') this.checkStale(rule, c, now);
      else if (c.kind === 'refused-spike') {
        const n = this.refused.count();
        const holds = this.delayedClear(rule.id, 'ingest', n > c.perMinute, now, c.clearForMinutes);
        this.alerts.apply(
          rule,
          'ingest',
          'ingest',
          holds,
          n,
          () => `${n} messages refused in the last minute`,
        );
      } else if (c.kind === 'store-backlog') {
        const backlog = storeBacklogOf(this.deps.ingest);
        const holds = this.delayedClear(rule.id, 'store', backlog > c.values, now, c.clearForMinutes);
        this.alerts.apply(rule, 'store', 'store', holds, backlog, () => `store backlog ${backlog} values`);
      }
    }
    this.alerts.forgetClearedBefore(now - MAX_REPEAT_WINDOW_MS);
    this.prune(now);
  }

  /** Cleared alerts past the retention go; one pass at a time, off the tick (a slow database is no reason to skip a check). */
  private prune(now: number): void {
    if (this.pruning) return;
    this.pruning = true;
    this.records
      .pruneCleared(now - this.retentionMs)
      .catch((err: unknown) => this.log.warn({ err }, 'cleared alerts not pruned; the next check retries'))
      .finally(() => {
        this.pruning = false;
      });
  }

  /** The condition as the alert should see it: still true until false for `clearForMinutes`. */
  private delayedClear(
    ruleId: string,
    subject: string,
    holds: boolean,
    now: number,
    minutes: number,
  ): boolean {
    const active = this.alerts.activeOf(ruleId, subject) !== undefined;
    return this.clearDelay.active(`${ruleId}\u0000${subject}`, holds, active, now, minutes);
  }

  private checkStale(rule: AlertRule, c: StaleDevice, now: number) {
    const intervalOf = (kind: string) => this.deps.kinds.get(kind)?.intervalSec;
    for (const j of judgeStaleDevices(c, this.watchedDevices(c), intervalOf, now))
      this.alerts.apply(rule, j.device.id, 'device', j.stale, j.silentSec, () => j.message);
  }

  /** The registry's devices in one pass where it can; else paged by the rule's filter. */
  private *watchedDevices(c: StaleDevice): Generator<DeviceRecord> {
    const all = this.deps.registry.all?.();
    if (all !== undefined) {
      yield* all;
      return;
    }
    const filter: ListFilter = { status: 'active', limit: 1000 };
    if (c.deviceKind !== undefined) filter.kind = c.deviceKind;
    if (c.district !== undefined) filter.district = c.district;
    for (let offset = 0; ; offset += 1000) {
      const page = this.deps.registry.list({ ...filter, offset });
      yield* page.items;
      if (offset + 1000 >= page.total) break;
    }
  }

  private readonly onReadings = (r: ReadingsAccepted): void => {
    if (this.seriesStates.size === 0) return;
    try {
      for (const [ruleId, state] of this.seriesStates) {
        for (const v of r.values) {
          if (!state.matches(r.deviceId, r.district, v.metric)) continue;
          const t = state.offer(r.deviceId, r.district, v.value, v.ts);
          if (t === null) continue;
          const rule = this.rulesById.get(ruleId);
          if (!rule) continue;
          const c = state.rule;
          const subjectKind = c.scope;
          if (t.kind === 'open') {
            this.alerts.apply(
              rule,
              t.subject,
              subjectKind,
              true,
              t.value,
              () =>
                `${c.metric} ${c.op} ${c.value} in ${t.subject}${c.forMinutes > 0 ? ` for ${c.forMinutes} min` : ''}: ${fmt(t.value)}`,
            );
          } else if (t.kind === 'clear') {
            this.alerts.apply(rule, t.subject, subjectKind, false, t.value, () => '');
          } else {
            const alert = this.alerts.activeOf(rule.id, t.subject);
            if (alert) alert.lastValue = t.value; // kept in memory; written with the next state change
          }
        }
      }
    } catch (err) {
      // A listener on the ingest path must never throw (core/platform-events.ts).
      this.log.error({ err }, 'alert evaluation failed');
    }
  };

  private readonly onKpi = (k: KpiUpdated): void => {
    try {
      this.offerKpi(k);
    } catch (err) {
      this.log.error({ err }, 'KPI alert evaluation failed');
    }
  };

  private readonly onRefused = (_r: MessageRefused): void => {
    this.refused.add();
  };

  private rebuildSeriesStates(): void {
    const next = new Map<string, SeriesThresholdState>();
    for (const rule of this.rulesById.values()) {
      if (!rule.enabled || rule.condition.kind !== 'series-threshold') continue;
      // Kept across rebuilds so creating one rule does not reset the running episodes of the others.
      next.set(rule.id, this.seriesStates.get(rule.id) ?? new SeriesThresholdState(rule.condition));
    }
    this.seriesStates = next;
  }

  /**
   * Stops the timer and listeners, waits (bounded) for the changes not yet stored and for webhooks in
   * flight, closes the records. Idempotent.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.timer?.cancel();
    this.deps.events.off('readings', this.onReadings);
    this.deps.events.off('refused', this.onRefused);
    this.deps.events.off('kpi-updated', this.onKpi);
    this.alerts.closeListeners();
    const unstored = await this.writes.close();
    if (unstored > 0)
      this.log.error({ unstored, records: this.records.location }, 'alert changes not stored at shutdown');
    await this.webhook.drain();
    await this.records.close();
  }
}

const fmt = (v: number): string => (Math.round(v * 100) / 100).toString();
