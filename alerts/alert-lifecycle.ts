import type { Clock } from '../core/clock.ts';
import { CityError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { AlertStore } from './alert-store.ts';
import type { Alert, AlertRule } from './alert-types.ts';
import type { WebhookNotifier } from './webhook-notifier.ts';

type Listener = (alert: Alert) => void;

export interface AlertLifecycleDeps {
  store: AlertStore;
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
 * clears; each step is written to the store, told to `onChange` listeners and, on open and clear, to the
 * rule's webhook. The engine decides; this keeps the record.
 */
export class AlertLifecycle {
  /** `${ruleId}\u0000${subject}` → active alert */
  private readonly active = new Map<string, Alert>();
  private readonly listeners = new Set<Listener>();

  constructor(private readonly deps: AlertLifecycleDeps) {
    for (const alert of deps.store.activeAlerts()) this.active.set(key(alert.ruleId, alert.subject), alert);
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
    this.deps.store.updateAlert(alert);
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
        id: this.deps.store.newId('a'),
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
      this.deps.store.insertAlert(alert);
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
    const last = this.deps.store.lastCleared(rule.id, subject, now - rule.repeatWindowMinutes * 60_000);
    if (last === undefined || last.clearedBy?.startsWith('rule deleted')) return false;
    last.state = 'open';
    last.message = message();
    last.lastValue = value;
    last.repeatCount += 1;
    last.lastOpenedAt = now;
    last.acknowledgedBy = null;
    last.acknowledgedAt = null;
    last.clearedAt = null;
    last.clearedBy = null;
    this.deps.store.updateAlert(last);
    this.active.set(key(rule.id, subject), last);
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
    this.deps.store.updateAlert(alert);
    this.active.delete(key(alert.ruleId, alert.subject));
    this.deps.log.info({ alertId: alert.id, by }, 'alert cleared');
    this.emit(alert);
    const rule = this.deps.rule(alert.ruleId);
    if (rule?.webhookUrl) this.deps.webhook.notify(rule.webhookUrl, 'cleared', alert, this.deps.cityName);
  }

  activeById(id: string): Alert {
    for (const alert of this.active.values()) if (alert.id === id) return alert;
    const stored = this.deps.store.getAlert(id);
    if (!stored) throw new CityError('API_NOT_FOUND', `no alert ${id}`, { field: 'id' });
    throw new CityError('API_CONFLICT', `alert ${id} is already ${stored.state}`);
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

const key = (ruleId: string, subject: string): string => `${ruleId}\u0000${subject}`;
