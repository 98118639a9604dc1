import type { Alert, AlertRule, AlertState } from './alert-types.ts';

export interface AlertQuery {
  state?: AlertState | 'active';
  limit?: number;
  offset?: number;
}

/** What the engine holds in memory from the start: its rules, the active alerts, and recent clearances. */
export interface AlertRecordsSnapshot {
  rules: AlertRule[];
  active: Alert[];
  /** Alerts cleared at or after the `clearedSince` asked for: a reopening within a repeat window continues one. */
  recentlyCleared: Alert[];
}

/**
 * Where alert rules and alerts are kept: `<dataDir>/alerts.db` in one process (sqlite-alert-records.ts),
 * PostgreSQL in a cluster (postgres-alert-records.ts), so that the kpi node that takes over the evaluation
 * continues the same alerts and every api node lists them. Writes happen only on state changes (a rule
 * created or deleted, an alert opened, acknowledged or cleared), never per reading. Both pass the contract
 * suite in test/contracts/alert-records.contract.ts.
 */
export interface AlertRecords {
  /** Where the records are, for messages: a file path or `postgres:<database>`. */
  readonly location: string;
  load(clearedSince: number): Promise<AlertRecordsSnapshot>;
  rules(): Promise<AlertRule[]>;
  insertRule(rule: AlertRule): Promise<void>;
  /** False when there was no such rule. */
  deleteRule(id: string): Promise<boolean>;
  insertAlert(alert: Alert): Promise<void>;
  /** Writes the mutable fields of an alert (state, acknowledgement, clearance, last value, repeats). */
  updateAlert(alert: Alert): Promise<void>;
  getAlert(id: string): Promise<Alert | undefined>;
  /** Newest first, filtered by state, paged. */
  listAlerts(query?: AlertQuery): Promise<{ items: Alert[]; total: number }>;
  /** Removes alerts cleared before `before` (epoch ms); returns how many. */
  pruneCleared(before: number): Promise<number>;
  close(): Promise<void>;
}
