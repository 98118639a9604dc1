import type pg from 'pg';
import type { Logger } from '../core/logger.ts';
import type { PgComponentSchema } from '../core/pg-component-schema.ts';
import { openPgPart } from '../core/pg-part.ts';
import { handlePoolErrors } from '../core/pg-pool-errors.ts';
import { inPgTransaction } from '../core/pg-transaction.ts';
import { storeCorrupt } from '../core/sqlite-file.ts';
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

export const PG_ALERTS_SCHEMA_VERSION = 1;

const SCHEMA: PgComponentSchema = {
  what: 'alerts',
  versionTable: 'citymetrics_alerts_schema',
  version: PG_ALERTS_SCHEMA_VERSION,
  tables: ['alert_rules', 'alerts'],
  lock: 0x434d414c,
  ddl: `
    CREATE TABLE alert_rules (
      id text PRIMARY KEY,
      name text NOT NULL,
      severity text NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
      condition text NOT NULL,
      webhook_url text,
      enabled boolean NOT NULL,
      repeat_window_minutes integer NOT NULL,
      created_by text NOT NULL,
      created_at bigint NOT NULL
    );
    CREATE TABLE alerts (
      id text PRIMARY KEY,
      rule_id text NOT NULL,
      rule_name text NOT NULL,
      severity text NOT NULL,
      subject text NOT NULL,
      subject_kind text NOT NULL,
      message text NOT NULL,
      value double precision,
      last_value double precision,
      state text NOT NULL CHECK (state IN ('open', 'acknowledged', 'cleared')),
      opened_at bigint NOT NULL,
      repeat_count integer NOT NULL DEFAULT 0,
      last_opened_at bigint,
      acknowledged_by text,
      acknowledged_at bigint,
      cleared_at bigint,
      cleared_by text
    );
    CREATE INDEX alerts_by_state ON alerts (state, opened_at);
    CREATE INDEX alerts_by_subject ON alerts (rule_id, subject, cleared_at);`,
};

export interface PostgresAlertRecordsOptions {
  /** postgres://user:password@host:port/database */
  url: string;
  logger: Logger;
  /** Connections in the pool (default 2). */
  maxConnections?: number;
  /** A connection attempt fails after this (default 5000 ms). */
  connectTimeoutMs?: number;
}

const placeholders = (n: number, from = 1) => Array.from({ length: n }, (_, i) => `$${i + from}`).join(', ');
const INSERT_ALERT = `INSERT INTO alerts (${ALERT_COLUMNS.join(', ')}) VALUES (${placeholders(ALERT_COLUMNS.length)})`;
const UPDATE_ALERT = `UPDATE alerts SET ${ALERT_MUTABLE_COLUMNS.map((c, i) => `${c} = $${i + 1}`).join(', ')}
  WHERE id = $${ALERT_MUTABLE_COLUMNS.length + 1}`;

/**
 * Alert rules and alerts in PostgreSQL, for a cluster: the kpi leader's engine writes them, a standby that
 * takes over continues them (the same open alerts, the same repeats), and every api node lists them.
 * Only the engine writes, so there is no change feed: the leader announces changes on NATS itself.
 */
export class PostgresAlertRecords implements AlertRecords {
  readonly location: string;
  private closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    log: Logger,
    database: string,
  ) {
    this.location = `postgres:${database}`;
    handlePoolErrors(pool, (err) => log.warn({ err: err.message }, 'PostgreSQL connection lost'));
  }

  /** Connects and creates or checks the schema (STORE_CORRUPT for another version). */
  static open(opts: PostgresAlertRecordsOptions): Promise<PostgresAlertRecords> {
    const log = opts.logger.child({ component: 'alert-records', store: 'postgres' });
    return openPgPart(
      { ...opts, schema: SCHEMA, applicationName: 'citymetrics-alerts' },
      (pool, database) => new PostgresAlertRecords(pool, log, database),
    );
  }

  private readonly corrupt = (detail: string) => storeCorrupt(this.location, detail);

  private async rows<T extends pg.QueryResultRow>(sql: string, args: unknown[] = []): Promise<T[]> {
    return (await this.pool.query<T>(sql, args)).rows;
  }

  /** Rules and alerts in one REPEATABLE READ snapshot: a rule and its alerts as of one moment. */
  async load(clearedSince: number): Promise<AlertRecordsSnapshot> {
    return inPgTransaction(this.pool, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', async (client) => {
      const q = async <T extends pg.QueryResultRow>(sql: string, args: unknown[] = []) =>
        (await client.query<T>(sql, args)).rows;
      const rules = await q<RuleRow>('SELECT * FROM alert_rules ORDER BY created_at, id');
      const active = await q<AlertRow>(
        "SELECT * FROM alerts WHERE state != 'cleared' ORDER BY opened_at DESC",
      );
      const cleared = await q<AlertRow>(
        "SELECT * FROM alerts WHERE state = 'cleared' AND cleared_at >= $1 ORDER BY cleared_at",
        [clearedSince],
      );
      return {
        rules: rules.map((r) => toRule(r, this.corrupt)),
        active: active.map(toAlert),
        recentlyCleared: cleared.map(toAlert),
      };
    });
  }

  async rules(): Promise<AlertRule[]> {
    const rows = await this.rows<RuleRow>('SELECT * FROM alert_rules ORDER BY created_at, id');
    return rows.map((r) => toRule(r, this.corrupt));
  }

  /** Idempotent: a write retried after a lost answer finds its row and stores nothing twice. */
  async insertRule(rule: AlertRule): Promise<void> {
    await this.pool.query(
      `INSERT INTO alert_rules (id, name, severity, condition, webhook_url, enabled, repeat_window_minutes,
         created_by, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING`,
      [
        rule.id,
        rule.name,
        rule.severity,
        JSON.stringify(rule.condition),
        rule.webhookUrl,
        rule.enabled,
        rule.repeatWindowMinutes,
        rule.createdBy,
        rule.createdAt,
      ],
    );
  }

  async deleteRule(id: string): Promise<boolean> {
    return ((await this.pool.query('DELETE FROM alert_rules WHERE id = $1', [id])).rowCount ?? 0) > 0;
  }

  async insertAlert(alert: Alert): Promise<void> {
    await this.pool.query(`${INSERT_ALERT} ON CONFLICT (id) DO NOTHING`, alertValues(alert));
  }

  async updateAlert(alert: Alert): Promise<void> {
    await this.pool.query(UPDATE_ALERT, alertMutableValues(alert));
  }

  async getAlert(id: string): Promise<Alert | undefined> {
    const [row] = await this.rows<AlertRow>('SELECT * FROM alerts WHERE id = $1', [id]);
    return row && toAlert(row);
  }

  async listAlerts(query: AlertQuery = {}): Promise<{ items: Alert[]; total: number }> {
    const { where, args } = alertStateFilter(query.state, '$1');
    const [count] = await this.rows<{ n: number }>(`SELECT count(*)::int AS n FROM alerts ${where}`, args);
    const n = args.length;
    const rows = await this.rows<AlertRow>(
      `SELECT * FROM alerts ${where} ORDER BY opened_at DESC, id LIMIT $${n + 1} OFFSET $${n + 2}`,
      [...args, query.limit ?? 100, query.offset ?? 0],
    );
    return { items: rows.map(toAlert), total: count?.n ?? 0 };
  }

  async pruneCleared(before: number): Promise<number> {
    const r = await this.pool.query("DELETE FROM alerts WHERE state = 'cleared' AND cleared_at < $1", [
      before,
    ]);
    return r.rowCount ?? 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}
