import type pg from 'pg';
import { CityError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { PgChangeFeed } from '../core/pg-change-feed.ts';
import type { PgComponentSchema } from '../core/pg-component-schema.ts';
import { openPgPart } from '../core/pg-part.ts';
import { handlePoolErrors } from '../core/pg-pool-errors.ts';
import { inPgTransaction } from '../core/pg-transaction.ts';
import {
  type CorruptRow,
  type ManualRow,
  manualColumns,
  type ProfileRow,
  profileColumns,
  type RestatementRow,
  type RollupRow,
  restatementColumns,
  rollupColumns,
  type TargetRow,
  toManual,
  toProfile,
  toRestatement,
  toRollup,
  toTarget,
} from './kpi-record-rows.ts';
import type {
  KpiRecordsBackend,
  KpiRecordsSnapshot,
  ManualAppend,
  ManualValueInput,
  ProfileRecord,
  TargetRecord,
} from './kpi-records.ts';
import type { RestatementRecord, StoredRollup } from './rollup-types.ts';

export const PG_KPI_SCHEMA_VERSION = 2;
/** Where a node announces that it wrote KPI records: the payload names the table, for logs only. */
export const PG_KPI_CHANNEL = 'citymetrics_kpi_records';
/** Serialises manual appends, so that two nodes superseding the same entry cannot both leave theirs current. */
const MANUAL_APPEND_LOCK = 0x434d4b4d;

const SCHEMA: PgComponentSchema = {
  what: 'KPI records',
  versionTable: 'citymetrics_kpi_schema',
  version: PG_KPI_SCHEMA_VERSION,
  tables: ['kpi_manual_values', 'kpi_city_profile', 'kpi_targets', 'kpi_rollups', 'kpi_restatements'],
  lock: 0x434d4b50,
  // Roll-up entries and causes are kept as the JSON text they were written as (as in kpi.db): a closed
  // month reads back byte for byte, whichever backend holds it.
  ddl: `
    CREATE TABLE kpi_manual_values (
      id bigserial PRIMARY KEY,
      subject_type text NOT NULL CHECK (subject_type IN ('kpi', 'input')),
      subject text NOT NULL,
      data_point text NOT NULL DEFAULT '',
      period text NOT NULL,
      value double precision NOT NULL,
      unit text NOT NULL,
      data_quality text NOT NULL,
      source text NOT NULL,
      evidence text,
      override boolean NOT NULL DEFAULT false,
      entered_by text NOT NULL,
      entered_at bigint NOT NULL,
      superseded_by bigint REFERENCES kpi_manual_values (id)
    );
    CREATE INDEX kpi_manual_values_current ON kpi_manual_values (subject_type, subject, data_point, period)
      WHERE superseded_by IS NULL;
    CREATE TABLE kpi_city_profile (
      id bigserial PRIMARY KEY,
      field text NOT NULL,
      value_num double precision,
      value_text text,
      effective_from text NOT NULL,
      effective_from_ms bigint NOT NULL,
      data_quality text,
      source text,
      entered_by text NOT NULL,
      entered_at bigint NOT NULL
    );
    CREATE TABLE kpi_targets (
      code text NOT NULL,
      data_point text NOT NULL DEFAULT '',
      value double precision NOT NULL,
      source text NOT NULL,
      set_by text NOT NULL,
      set_at bigint NOT NULL,
      PRIMARY KEY (code, data_point)
    );
    CREATE TABLE kpi_rollups (
      period text NOT NULL,
      version integer NOT NULL,
      closed_at bigint NOT NULL,
      closed_by text NOT NULL,
      cause text NOT NULL,
      causes text NOT NULL,
      entries text NOT NULL,
      PRIMARY KEY (period, version)
    );
    CREATE TABLE kpi_restatements (
      id bigserial PRIMARY KEY,
      period text NOT NULL,
      version integer NOT NULL,
      code text NOT NULL,
      data_point text NOT NULL DEFAULT '',
      old_value double precision,
      new_value double precision,
      cause text NOT NULL,
      causes text NOT NULL,
      at bigint NOT NULL,
      old_status text,
      new_status text,
      old_completeness double precision,
      new_completeness double precision,
      FOREIGN KEY (period, version) REFERENCES kpi_rollups (period, version)
    );`,
  migrations: {
    // 2: each restatement row keeps the entry's status and completeness before and after (null on older rows)
    1: `ALTER TABLE kpi_restatements ADD COLUMN old_status text, ADD COLUMN new_status text,
          ADD COLUMN old_completeness double precision, ADD COLUMN new_completeness double precision`,
  },
};

export interface PostgresKpiRecordsOptions {
  /** postgres://user:password@host:port/database */
  url: string;
  logger: Logger;
  /** Connections in the pool (default 2); the change feed takes one more. */
  maxConnections?: number;
  /** A connection attempt fails after this (default 5000 ms). */
  connectTimeoutMs?: number;
}

/**
 * The KPI records in PostgreSQL, shared by the kpi and api nodes of a cluster: a kpi leader that dies
 * leaves its closed months, manual values and targets to the standby that takes over, and a value entered
 * through any api node is the one every node computes with. Each write is one transaction that ends with
 * pg_notify on PG_KPI_CHANNEL, so the other nodes read the records again within milliseconds (and after a
 * lost feed connection, since notifications sent meanwhile are gone).
 */
export class PostgresKpiRecords implements KpiRecordsBackend {
  readonly location: string;
  private listener: (() => void) | null = null;
  private feed: PgChangeFeed | null = null;
  private closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly log: Logger,
    database: string,
  ) {
    this.location = `postgres:${database}`;
    handlePoolErrors(pool, (err) => this.log.warn({ err: err.message }, 'PostgreSQL connection lost'));
  }

  /** Connects, creates or checks the schema (STORE_CORRUPT for another version), starts the change feed. */
  static async open(opts: PostgresKpiRecordsOptions): Promise<PostgresKpiRecords> {
    const log = opts.logger.child({ component: 'kpi-records', store: 'postgres' });
    return openPgPart(
      { ...opts, schema: SCHEMA, applicationName: 'citymetrics-kpi-records' },
      (pool, database) => new PostgresKpiRecords(pool, log, database),
      async (records) => {
        records.feed = await PgChangeFeed.start({
          url: opts.url,
          channel: PG_KPI_CHANNEL,
          logger: log,
          connectTimeoutMs: opts.connectTimeoutMs,
          onMessage: () => records.listener?.(),
          onResync: () => records.listener?.(),
        });
      },
    );
  }

  onChange(listener: () => void): void {
    this.listener = listener;
  }

  /** Everything in one REPEATABLE READ snapshot, so a reload never sees half of another node's write. */
  async load(): Promise<KpiRecordsSnapshot> {
    return this.transaction('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', async (c) => {
      const all = async <T extends pg.QueryResultRow>(sql: string) => (await c.query<T>(sql)).rows;
      const corrupt: CorruptRow = (detail, cause) =>
        new CityError('STORE_CORRUPT', `PostgreSQL KPI records: ${detail}`, { cause });
      return {
        manual: (await all<ManualRow>('SELECT * FROM kpi_manual_values ORDER BY id')).map(toManual),
        profile: (
          await all<ProfileRow>('SELECT * FROM kpi_city_profile ORDER BY field, effective_from_ms, id')
        ).map(toProfile),
        targets: (await all<TargetRow>('SELECT * FROM kpi_targets ORDER BY code, data_point')).map(toTarget),
        rollups: (await all<RollupRow>('SELECT * FROM kpi_rollups ORDER BY period, version')).map((r) =>
          toRollup(r, corrupt),
        ),
        restatements: (
          await all<RestatementRow>('SELECT * FROM kpi_restatements ORDER BY period, version, id')
        ).map((r) => toRestatement(r, corrupt)),
      };
    });
  }

  addManualValues(inputs: readonly ManualValueInput[]): Promise<ManualAppend> {
    return this.transaction('BEGIN', async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [MANUAL_APPEND_LOCK]);
      const out: ManualAppend = { added: [], superseded: [] };
      for (const m of inputs) {
        const dataPoint = m.dataPoint ?? '';
        const { rows } = await c.query<{ id: number }>(
          `INSERT INTO kpi_manual_values (subject_type, subject, data_point, period, value, unit, data_quality,
             source, evidence, override, entered_by, entered_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
          [...manualColumns(m), m.override, m.enteredBy, m.enteredAt],
        );
        const id = rows[0]!.id;
        const replaced = await c.query<{ id: number }>(
          `UPDATE kpi_manual_values SET superseded_by = $1
           WHERE subject_type = $2 AND subject = $3 AND data_point = $4 AND period = $5
             AND superseded_by IS NULL AND id <> $1
           RETURNING id`,
          [id, m.subjectType, m.subject, dataPoint, m.period],
        );
        for (const r of replaced.rows) out.superseded.push({ id: r.id, by: id });
        out.added.push({ ...m, id, supersededBy: null });
      }
      await this.notify(c, 'manual');
      return out;
    });
  }

  addProfile(rows: readonly ProfileRecord[]): Promise<void> {
    return this.transaction('BEGIN', async (c) => {
      for (const r of rows)
        await c.query(
          `INSERT INTO kpi_city_profile (field, value_num, value_text, effective_from, effective_from_ms,
             data_quality, source, entered_by, entered_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
          [...profileColumns(r)],
        );
      await this.notify(c, 'profile');
    });
  }

  setTargets(records: readonly TargetRecord[]): Promise<void> {
    return this.transaction('BEGIN', async (c) => {
      for (const t of records)
        await c.query(
          `INSERT INTO kpi_targets (code, data_point, value, source, set_by, set_at) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (code, data_point) DO UPDATE SET value = excluded.value, source = excluded.source,
             set_by = excluded.set_by, set_at = excluded.set_at`,
          [t.code, t.dataPoint ?? '', t.value, t.source, t.setBy, t.setAt],
        );
      await this.notify(c, 'targets');
    });
  }

  saveRollup(rollup: StoredRollup, restatements: readonly RestatementRecord[]): Promise<boolean> {
    return this.transaction('BEGIN', async (c) => {
      const inserted = await c.query(
        `INSERT INTO kpi_rollups (period, version, closed_at, closed_by, cause, causes, entries)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (period, version) DO NOTHING`,
        [...rollupColumns(rollup)],
      );
      if ((inserted.rowCount ?? 0) === 0) return false;
      for (const r of restatements)
        await c.query(
          `INSERT INTO kpi_restatements (period, version, code, data_point, old_value, new_value, cause, causes,
             at, old_status, new_status, old_completeness, new_completeness)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
          [...restatementColumns(r)],
        );
      await this.notify(c, 'rollups');
      return true;
    });
  }

  private async notify(c: pg.PoolClient, what: string): Promise<void> {
    await c.query('SELECT pg_notify($1, $2)', [PG_KPI_CHANNEL, what]);
  }

  /** A rolled-back transaction (a roll-up version that exists) stores nothing and announces nothing. */
  private transaction<T>(begin: string, run: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return inPgTransaction(this.pool, begin, run, (out) => out !== false);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.feed?.close();
    await this.pool.end();
  }
}
