import { randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import { CityError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { AlertRecords, AlertRecordsSnapshot } from './alert-records.ts';
import type { Alert, AlertRule } from './alert-types.ts';
import type { AlertWrites } from './alert-writes.ts';
import type { WebhookNotifier } from './webhook-notifier.ts';

type Listener = (alert: Alert) => void;

export interface AlertLifecycleDeps {
  records: AlertRecords;
  writes: AlertWrites;
  /** What the records held at start: the active alerts and the recent clearances are continued. */
  snapshot: AlertRecordsSnapshot;
  webhook: WebhookNotifier;
  clock: Clock;
  log: Logger;
  cityName: string;
  /** The rule of an alert, for its webhook when it clears (undefined once deleted). */
  rule(id: string): AlertRule | undefined;
}

/**
 * The life of alerts once a rule has decided whether its condition holds: an alert is unique per (rule,
 * subject) while active, opens (or reopens as a repeat within the rule's window), is acknowledged and
 * clears; each step is written to the records (in order, through AlertWrites), told to `onChange` listeners
 * and, on open and clear, to the rule's webhook. The engine decides; this keeps the record. The latest
 * clearance of each (rule, subject) is kept in memory for as long as a repeat window may reach it, so that
 * deciding a reopening reads nothing.
 */
export class AlertLifecycle {
  /** `${ruleId}\u0000${subject}` → active alert */
  private readonly active = new Map<string, Alert>();
  /** `${ruleId}\u0000${subject}` → its alert cleared most recently (within the longest repeat window) */
  private readonly cleared = new Map<string, Alert>();
  private readonly listeners = new Set<Listener>();

  constructor(private readonly deps: AlertLifecycleDeps) {
    for (const alert of deps.snapshot.active) this.active.set(key(alert.ruleId, alert.subject), alert);
    for (const alert of deps.snapshot.recentlyCleared)
      this.cleared.set(key(alert.ruleId, alert.subject), alert);
  }

  /** Forgets clearances older than `before` (epoch ms): no repeat window reaches them. */
  forgetClearedBefore(before: number): void {
    for (const [k, alert] of this.cleared) if ((alert.clearedAt ?? 0) < before) this.cleared.delete(k);
  }

  /** The active alert of (rule, subject), if any. */
  activeOf(ruleId: string, subject: string): Alert | undefined {
    return this.active.get(key(ruleId, subject));
  }

  activeAlerts(): Alert[] {
    return [...this.active.values()];
  }

  acknowledge(alert: Alert, by: string): void {
    alert.state = 'acknowledged';
    alert.acknowledgedBy = by;
    alert.acknowledgedAt = this.deps.clock.now();
    this.update(alert);
    this.emit(alert);
  }

  /** Listens to every change of an alert (opened, acknowledged, cleared); returns the unsubscribe. */
  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  closeListeners(): void {
    this.listeners.clear();
  }

  /** Opens, updates or clears the alert of (rule, subject) according to whether the condition holds. */
  apply(
    rule: AlertRule,
    subject: string,
    subjectKind: Alert['subjectKind'],
    holds: boolean,
    value: number,
    message: () => string,
  ): void {
    const k = key(rule.id, subject);
    const current = this.active.get(k);
    if (holds) {
      if (current) {
        current.lastValue = value;
        return;
      }
      const now = this.deps.clock.now();
      const repeat = this.reopen(rule, subject, value, message, now);
      if (repeat) return;
      const alert: Alert = {
        id: newAlertId('a'),
        ruleId: rule.id,
        ruleName: rule.name,
        severity: rule.severity,
        subject,
        subjectKind,
        message: message(),
        value,
        lastValue: value,
        state: 'open',
        openedAt: now,
        repeatCount: 0,
        lastOpenedAt: now,
        acknowledgedBy: null,
        acknowledgedAt: null,
        clearedAt: null,
        clearedBy: null,
      };
      const stored = { ...alert };
      this.deps.writes.enqueue(`open ${alert.id}`, () => this.deps.records.insertAlert(stored));
      this.active.set(k, alert);
      this.deps.log.info({ alertId: alert.id, ruleId: rule.id, subject }, 'alert opened');
      this.emit(alert);
      if (rule.webhookUrl) this.deps.webhook.notify(rule.webhookUrl, 'opened', alert, this.deps.cityName);
    } else if (current) {
      this.clear(current, 'condition', value);
    }
  }

  /**
   * Reopens the alert of (rule, subject) cleared within the rule's repeat window, as one more repeat of it:
   * a condition that comes and goes is one alert with a count, not a new alert each time. The webhook hears
   * it open again (it heard it clear). False when there is none to reopen.
   */
  private reopen(
    rule: AlertRule,
    subject: string,
    value: number,
    message: () => string,
    now: number,
  ): boolean {
    if (!(rule.repeatWindowMinutes > 0)) return false;
    const k = key(rule.id, subject);
    const last = this.cleared.get(k);
    if (last === undefined || (last.clearedAt ?? 0) < now - rule.repeatWindowMinutes * 60_000) return false;
    if (last.clearedBy?.startsWith('rule deleted')) return false;
    this.cleared.delete(k);
    last.state = 'open';
    last.message = message();
    last.lastValue = value;
    last.repeatCount += 1;
    last.lastOpenedAt = now;
    last.acknowledgedBy = null;
    last.acknowledgedAt = null;
    last.clearedAt = null;
    last.clearedBy = null;
    this.update(last);
    this.active.set(k, last);
    this.deps.log.info(
      { alertId: last.id, ruleId: rule.id, subject, repeatCount: last.repeatCount },
      'alert opened again (repeat)',
    );
    this.emit(last);
    if (rule.webhookUrl) this.deps.webhook.notify(rule.webhookUrl, 'opened', last, this.deps.cityName);
    return true;
  }

  clear(alert: Alert, by: string, value: number | null): void {
    alert.state = 'cleared';
    alert.clearedAt = this.deps.clock.now();
    alert.clearedBy = by;
    alert.lastValue = value;
    this.update(alert);
    this.active.delete(key(alert.ruleId, alert.subject));
    this.cleared.set(key(alert.ruleId, alert.subject), alert);
    this.deps.log.info({ alertId: alert.id, by }, 'alert cleared');
    this.emit(alert);
    const rule = this.deps.rule(alert.ruleId);
    if (rule?.webhookUrl) this.deps.webhook.notify(rule.webhookUrl, 'cleared', alert, this.deps.cityName);
  }

  /** The active alert of that id; API_NOT_FOUND or API_CONFLICT (cleared) from the records otherwise. */
  async activeById(id: string): Promise<Alert> {
    for (const alert of this.active.values()) if (alert.id === id) return alert;
    const stored = await this.deps.records.getAlert(id);
    if (!stored) throw new CityError('API_NOT_FOUND', `no alert ${id}`, { field: 'id' });
    throw new CityError('API_CONFLICT', `alert ${id} is already ${stored.state}`);
  }

  /** Writes the alert as it is now (a copy: later changes are later writes). */
  private update(alert: Alert): void {
    const stored = { ...alert };
    this.deps.writes.enqueue(`${alert.state} ${alert.id}`, () => this.deps.records.updateAlert(stored));
  }

  private emit(alert: Alert): void {
    const copy = { ...alert };
    for (const listener of this.listeners) {
      try {
        listener(copy);
      } catch (err) {
        this.deps.log.error({ err }, 'alert listener failed');
      }
    }
  }
}

/** 'a' + 12 hex digits for an alert, 'r' + 12 for a rule (the API's id pattern). */
export const newAlertId = (prefix: 'r' | 'a'): string => `${prefix}${randomBytes(6).toString('hex')}`;

const key = (ruleId: string, subject: string): string => `${ruleId}\u0000${subject}`;
