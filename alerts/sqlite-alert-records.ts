import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { openCitymetricsDb, storeCorrupt } from '../core/sqlite-file.ts';
import type { AlertQuery, AlertRecords, AlertRecordsSnapshot } from './alert-records.ts';
import {
  ALERT_COLUMNS,
  ALERT_MUTABLE_COLUMNS,
  type AlertRow,
  alertMutableValues,
  alertStateFilter,
  alertValues,
  type RuleRow,
  toAlert,
  toRule,
} from './alert-rows.ts';
import type { Alert, AlertRule } from './alert-types.ts';

/**
 * Alert rules and alerts in `<dataDir>/alerts.db`, so that an alert and who acknowledged it survive a
 * restart. Every method does its work synchronously (SQLite on this thread) and returns a settled
 * promise: a write is on disk when the call returns, as the engine's read-your-writes expects.
 */

/** 'CMAL': citymetrics alerts. */
export const ALERTS_APPLICATION_ID = 0x434d414c;
export const ALERTS_SCHEMA_VERSION = 2;
export const ALERTS_FILE_NAME = 'alerts.db';

export class SqliteAlertRecords implements AlertRecords {
  readonly location: string;

  private constructor(private readonly db: Database.Database) {
    this.location = db.name;
  }

  static open(options: { dataDir: string }): SqliteAlertRecords {
    return new SqliteAlertRecords(openAlertsDb(join(options.dataDir, ALERTS_FILE_NAME)));
  }

  private readonly corrupt = (detail: string) => storeCorrupt(this.location, detail);

  async load(clearedSince: number): Promise<AlertRecordsSnapshot> {
    const alerts = (sql: string, ...args: unknown[]) =>
      (this.db.prepare(sql).all(...args) as AlertRow[]).map(toAlert);
    return {
      rules: await this.rules(),
      active: alerts("SELECT * FROM alerts WHERE state != 'cleared' ORDER BY opened_at DESC"),
      recentlyCleared: alerts(
        "SELECT * FROM alerts WHERE state = 'cleared' AND cleared_at >= ? ORDER BY cleared_at",
        clearedSince,
      ),
    };
  }

  async rules(): Promise<AlertRule[]> {
    const rows = this.db.prepare('SELECT * FROM alert_rules ORDER BY created_at, id').all() as RuleRow[];
    return rows.map((row) => toRule(row, this.corrupt));
  }

  /** Idempotent, as a retried write must be. */
  async insertRule(rule: AlertRule): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO alert_rules (id, name, severity, condition, webhook_url, enabled, repeat_window_minutes,
           created_by, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
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

  async deleteRule(id: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM alert_rules WHERE id = ?').run(id).changes > 0;
  }

  async insertAlert(alert: Alert): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO alerts (${ALERT_COLUMNS.join(', ')}) VALUES (${ALERT_COLUMNS.map(() => '?').join(', ')})
         ON CONFLICT (id) DO NOTHING`,
      )
      .run(...alertValues(alert));
  }

  async updateAlert(alert: Alert): Promise<void> {
    this.db
      .prepare(`UPDATE alerts SET ${ALERT_MUTABLE_COLUMNS.map((c) => `${c} = ?`).join(', ')} WHERE id = ?`)
      .run(...alertMutableValues(alert));
  }

  async getAlert(id: string): Promise<Alert | undefined> {
    const row = this.db.prepare('SELECT * FROM alerts WHERE id = ?').get(id) as AlertRow | undefined;
    return row && toAlert(row);
  }

  async listAlerts(query: AlertQuery = {}): Promise<{ items: Alert[]; total: number }> {
    const { where, args } = alertStateFilter(query.state, '?');
    const total = (this.db.prepare(`SELECT COUNT(*) AS n FROM alerts ${where}`).get(...args) as { n: number })
      .n;
    const rows = this.db
      .prepare(`SELECT * FROM alerts ${where} ORDER BY opened_at DESC, id LIMIT ? OFFSET ?`)
      .all(...args, query.limit ?? 100, query.offset ?? 0) as AlertRow[];
    return { items: rows.map(toAlert), total };
  }

  async pruneCleared(before: number): Promise<number> {
    return this.db.prepare("DELETE FROM alerts WHERE state = 'cleared' AND cleared_at < ?").run(before)
      .changes;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

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
