import type { AlertQuery } from './alert-records.ts';
import type { Alert, AlertRule, AlertState } from './alert-types.ts';
import { ruleConditionSchema } from './alert-types.ts';

/** A rule as both backends store it (SQLite keeps `enabled` as 0/1, PostgreSQL as a boolean). */
export interface RuleRow {
  id: string;
  name: string;
  severity: string;
  condition: string;
  webhook_url: string | null;
  enabled: number | boolean;
  repeat_window_minutes: number;
  created_by: string;
  created_at: number;
}

export interface AlertRow {
  id: string;
  rule_id: string;
  rule_name: string;
  severity: string;
  subject: string;
  subject_kind: string;
  message: string;
  value: number | null;
  last_value: number | null;
  state: string;
  opened_at: number;
  repeat_count: number;
  last_opened_at: number | null;
  acknowledged_by: string | null;
  acknowledged_at: number | null;
  cleared_at: number | null;
  cleared_by: string | null;
}

/** Each field of an alert and its column, in insert order: the one list both backends' SQL is built from. */
const ALERT_FIELDS = [
  ['id', 'id'],
  ['ruleId', 'rule_id'],
  ['ruleName', 'rule_name'],
  ['severity', 'severity'],
  ['subject', 'subject'],
  ['subjectKind', 'subject_kind'],
  ['message', 'message'],
  ['value', 'value'],
  ['lastValue', 'last_value'],
  ['state', 'state'],
  ['openedAt', 'opened_at'],
  ['repeatCount', 'repeat_count'],
  ['lastOpenedAt', 'last_opened_at'],
  ['acknowledgedBy', 'acknowledged_by'],
  ['acknowledgedAt', 'acknowledged_at'],
  ['clearedAt', 'cleared_at'],
  ['clearedBy', 'cleared_by'],
] as const satisfies ReadonlyArray<readonly [keyof Alert, string]>;

/** What updateAlert writes: an alert's identity and its opening never change. */
const MUTABLE = new Set<keyof Alert>([
  'state',
  'message',
  'lastValue',
  'repeatCount',
  'lastOpenedAt',
  'acknowledgedBy',
  'acknowledgedAt',
  'clearedAt',
  'clearedBy',
]);
const MUTABLE_FIELDS = ALERT_FIELDS.filter(([f]) => MUTABLE.has(f));

/** The columns of an alert in insert order, shared by both backends' INSERT. */
export const ALERT_COLUMNS = ALERT_FIELDS.map(([, c]) => c);
export const alertValues = (a: Alert): unknown[] => ALERT_FIELDS.map(([f]) => a[f]);

/** The mutable columns of an alert; alertMutableValues gives their values, then the alert's id. */
export const ALERT_MUTABLE_COLUMNS = MUTABLE_FIELDS.map(([, c]) => c);
export const alertMutableValues = (a: Alert): unknown[] => [...MUTABLE_FIELDS.map(([f]) => a[f]), a.id];

/** A stored rule; a condition that no longer parses is the store's corruption, reported by `corrupt`. */
export function toRule(row: RuleRow, corrupt: (detail: string) => Error): AlertRule {
  const parsed = ruleConditionSchema.safeParse(JSON.parse(row.condition));
  if (!parsed.success) throw corrupt(`holds rule ${row.id} with an invalid condition`);
  return {
    id: row.id,
    name: row.name,
    severity: row.severity as AlertRule['severity'],
    condition: parsed.data,
    webhookUrl: row.webhook_url,
    enabled: row.enabled === 1 || row.enabled === true,
    repeatWindowMinutes: row.repeat_window_minutes,
    createdBy: row.created_by,
    createdAt: row.created_at,
  };
}

export const toAlert = (row: AlertRow): Alert => ({
  id: row.id,
  ruleId: row.rule_id,
  ruleName: row.rule_name,
  severity: row.severity as Alert['severity'],
  subject: row.subject,
  subjectKind: row.subject_kind as Alert['subjectKind'],
  message: row.message,
  value: row.value,
  lastValue: row.last_value,
  state: row.state as AlertState,
  openedAt: row.opened_at,
  repeatCount: row.repeat_count,
  lastOpenedAt: row.last_opened_at ?? row.opened_at,
  acknowledgedBy: row.acknowledged_by,
  acknowledgedAt: row.acknowledged_at,
  clearedAt: row.cleared_at,
  clearedBy: row.cleared_by,
});

/** The WHERE clause of a state-filtered list, with `placeholder` for its one argument ('?' or '$1'). */
export function alertStateFilter(
  state: AlertQuery['state'],
  placeholder: string,
): { where: string; args: unknown[] } {
  if (state === undefined) return { where: '', args: [] };
  if (state === 'active') return { where: "WHERE state != 'cleared'", args: [] };
  return { where: `WHERE state = ${placeholder}`, args: [state] };
}
