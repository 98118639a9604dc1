import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { openCitymetricsDb, storeCorrupt } from '../core/sqlite-file.ts';
import { type Alert, type AlertRule, type AlertState, ruleConditionSchema } from './alert-types.ts';

/**
 * Alert rules and alerts in `<dataDir>/alerts.db`, so that an alert and who acknowledged it survive a
 * restart. Writes happen only on state changes (open, acknowledge, clear, a rule created or deleted), never
 * per reading. Cleared alerts older than the retention are pruned, so the table does not only grow.
 */

/** 'CMAL': citymetrics alerts. */
export const ALERTS_APPLICATION_ID = 0x434d414c;
export const ALERTS_SCHEMA_VERSION = 2;

interface RuleRow {
  id: string;
  name: string;
  severity: string;
  condition: string;
  webhook_url: string | null;
  enabled: number;
  repeat_window_minutes: number;
  created_by: string;
  created_at: number;
}

interface AlertRow {
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

export interface AlertQuery {
  state?: AlertState | 'active';
  limit?: number;
  offset?: number;
}

export class AlertStore {
  private constructor(
    private readonly db: Database.Database,
    readonly file: string,
  ) {}

  static open(options: { dataDir: string }): AlertStore {
    const file = join(options.dataDir, 'alerts.db');
    return new AlertStore(openAlertsDb(file), file);
  }

  newId(prefix: 'r' | 'a'): string {
    return `${prefix}${randomBytes(6).toString('hex')}`;
  }

  insertRule(rule: AlertRule): void {
    this.db
      .prepare(
        `INSERT INTO alert_rules (id, name, severity, condition, webhook_url, enabled, repeat_window_minutes,
           created_by, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        rule.id,
        rule.name,
        rule.severity,
        JSON.stringify(rule.condition),
        rule.webhookUrl,
        rule.enabled ? 1 : 0,
        rule.repeatWindowMinutes,
        rule.createdBy,
        rule.createdAt,
      );
  }

  deleteRule(id: string): boolean {
    return this.db.prepare('DELETE FROM alert_rules WHERE id = ?').run(id).changes > 0;
  }

  rules(): AlertRule[] {
    const rows = this.db.prepare('SELECT * FROM alert_rules ORDER BY created_at, id').all() as RuleRow[];
    return rows.map((row) => toRule(row, this.file));
  }

  insertAlert(alert: Alert): void {
    this.db
      .prepare(
        `INSERT INTO alerts (id, rule_id, rule_name, severity, subject, subject_kind, message, value, last_value,
           state, opened_at, repeat_count, last_opened_at, acknowledged_by, acknowledged_at, cleared_at, cleared_by)
         VALUES (@id, @ruleId, @ruleName, @severity, @subject, @subjectKind, @message, @value, @lastValue,
           @state, @openedAt, @repeatCount, @lastOpenedAt, @acknowledgedBy, @acknowledgedAt, @clearedAt,
           @clearedBy)`,
      )
      .run(alert);
  }

  /** Writes the mutable fields of an alert (state, acknowledgement, clearance, last value, repeats). */
  updateAlert(alert: Alert): void {
    this.db
      .prepare(
        `UPDATE alerts SET state = @state, message = @message, last_value = @lastValue,
           repeat_count = @repeatCount, last_opened_at = @lastOpenedAt, acknowledged_by = @acknowledgedBy,
           acknowledged_at = @acknowledgedAt, cleared_at = @clearedAt, cleared_by = @clearedBy WHERE id = @id`,
      )
      .run(alert);
  }

  /**
   * The alert of (rule, subject) cleared most recently, at or after `since` (epoch ms): the one a reopening
   * within the rule's repeat window continues. One indexed read, and only when an alert is about to open.
   */
  lastCleared(ruleId: string, subject: string, since: number): Alert | undefined {
    const row = this.db
      .prepare(
        `SELECT * FROM alerts WHERE rule_id = ? AND subject = ? AND state = 'cleared' AND cleared_at >= ?
         ORDER BY cleared_at DESC LIMIT 1`,
      )
      .get(ruleId, subject, since) as AlertRow | undefined;
    return row && toAlert(row);
  }

  getAlert(id: string): Alert | undefined {
    const row = this.db.prepare('SELECT * FROM alerts WHERE id = ?').get(id) as AlertRow | undefined;
    return row && toAlert(row);
  }

  /** Open and acknowledged alerts: the engine keeps these in memory. */
  activeAlerts(): Alert[] {
    const rows = this.db
      .prepare("SELECT * FROM alerts WHERE state != 'cleared' ORDER BY opened_at DESC")
      .all() as AlertRow[];
    return rows.map(toAlert);
  }

  listAlerts(query: AlertQuery = {}): { items: Alert[]; total: number } {
    const where =
      query.state === undefined
        ? ''
        : query.state === 'active'
          ? "WHERE state != 'cleared'"
          : 'WHERE state = ?';
    const args = query.state === undefined || query.state === 'active' ? [] : [query.state];
    const total = (this.db.prepare(`SELECT COUNT(*) AS n FROM alerts ${where}`).get(...args) as { n: number })
      .n;
    const rows = this.db
      .prepare(`SELECT * FROM alerts ${where} ORDER BY opened_at DESC, id LIMIT ? OFFSET ?`)
      .all(...args, query.limit ?? 100, query.offset ?? 0) as AlertRow[];
    return { items: rows.map(toAlert), total };
  }

  /** Removes cleared alerts cleared before `before` (epoch ms); returns how many. */
  pruneCleared(before: number): number {
    return this.db.prepare("DELETE FROM alerts WHERE state = 'cleared' AND cleared_at < ?").run(before)
      .changes;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function toRule(row: RuleRow, file: string): AlertRule {
  const parsed = ruleConditionSchema.safeParse(JSON.parse(row.condition));
  if (!parsed.success) throw storeCorrupt(file, `holds rule ${row.id} with an invalid condition`);
  return {
    id: row.id,
    name: row.name,
    severity: row.severity as AlertRule['severity'],
    condition: parsed.data,
    webhookUrl: row.webhook_url,
    enabled: row.enabled === 1,
    repeatWindowMinutes: row.repeat_window_minutes,
    createdBy: row.created_by,
    createdAt: row.created_at,
  };
}

const toAlert = (row: AlertRow): Alert => ({
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

/**
 * migrations[v] takes the file from schema version v to v + 1, in the opener's one transaction. Append only:
 * a released step is never edited, a change of schema is a new step and a new schema version.
 */
const MIGRATIONS: ReadonlyArray<(db: Database.Database) => void> = [
  (db) => {
    db.exec(`
      CREATE TABLE alert_rules (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        severity TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
        condition TEXT NOT NULL,
        webhook_url TEXT,
        enabled INTEGER NOT NULL,
        created_by TEXT NOT NULL,
        created_at INTEGER NOT NULL
      ) STRICT;
      CREATE TABLE alerts (
        id TEXT PRIMARY KEY,
        rule_id TEXT NOT NULL,
        rule_name TEXT NOT NULL,
        severity TEXT NOT NULL,
        subject TEXT NOT NULL,
        subject_kind TEXT NOT NULL,
        message TEXT NOT NULL,
        value REAL,
        last_value REAL,
        state TEXT NOT NULL CHECK (state IN ('open', 'acknowledged', 'cleared')),
        opened_at INTEGER NOT NULL,
        acknowledged_by TEXT,
        acknowledged_at INTEGER,
        cleared_at INTEGER,
        cleared_by TEXT
      ) STRICT;
      CREATE INDEX alerts_by_state ON alerts (state, opened_at);
    `);
  },
  // Repeats: a rule's repeat window, an alert's repeat count and latest opening. Rules and alerts of
  // version 1 had neither: they get the default window and no repeat.
  (db) => {
    db.exec(`
      ALTER TABLE alert_rules ADD COLUMN repeat_window_minutes INTEGER NOT NULL DEFAULT 60;
      ALTER TABLE alerts ADD COLUMN repeat_count INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE alerts ADD COLUMN last_opened_at INTEGER;
      CREATE INDEX alerts_by_subject ON alerts (rule_id, subject, cleared_at);
    `);
  },
];

/**
 * Opens (or creates) the alerts database. A file that is not SQLite, SQLite that is not ours, or ours from a
 * newer version stops the platform with STORE_CORRUPT: re-creating it would silently lose the alert history.
 */
function openAlertsDb(file: string): Database.Database {
  return openCitymetricsDb({
    file,
    what: 'alerts database',
    applicationId: ALERTS_APPLICATION_ID,
    schemaVersion: ALERTS_SCHEMA_VERSION,
    migrate(db, from) {
      for (let v = from; v < ALERTS_SCHEMA_VERSION; v++) MIGRATIONS[v]!(db);
    },
  });
}
