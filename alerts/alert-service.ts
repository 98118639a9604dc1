import type { AlertQuery } from './alert-records.ts';
import type { Alert, AlertRule, RuleInput } from './alert-types.ts';

/**
 * What the HTTP API and the live page ask of alerts: the engine itself in one process, and on a cluster's
 * api node a link that reads the shared records and sends commands to the kpi leader's engine
 * (cluster/alerts-link.ts). Errors are CityErrors with the same codes either way.
 */
export interface AlertService {
  rules(): AlertRule[] | Promise<AlertRule[]>;
  createRule(input: RuleInput, createdBy: string): Promise<AlertRule>;
  deleteRule(id: string, by: string): Promise<void>;
  list(query?: AlertQuery): Promise<{ items: Alert[]; total: number }>;
  get(id: string): Promise<Alert>;
  acknowledge(id: string, by: string): Promise<Alert>;
  clear(id: string, by: string): Promise<Alert>;
  /** Every change of an alert (opened, acknowledged, cleared); returns the unsubscribe. */
  onChange(listener: (alert: Alert) => void): () => void;
}
