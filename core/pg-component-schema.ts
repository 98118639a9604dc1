import type pg from 'pg';
import { CityError } from './errors.ts';

/**
 * The schema of one citymetrics part (registry, access keys) in a PostgreSQL database it may share with
 * the others: each part has its own version table and its own tables, so the parts are created,
 * versioned and refused independently.
 */
export interface PgComponentSchema {
  /** For messages: "device registry", "access keys". */
  what: string;
  /** Its own version table, holding one row. */
  versionTable: string;
  version: number;
  /** The tables it creates: present without the version table means another application's. */
  tables: readonly string[];
  /** Creates the tables (the version table is created here). */
  ddl: string;
  /** Any fixed number of its own: concurrent first starts of several nodes create the schema once. */
  lock: number;
  /**
   * `migrations[v]` is the SQL taking the schema from version v to v + 1, for databases an earlier release
   * created. Append only; `ddl` always creates the current version.
   */
  migrations?: Readonly<Record<number, string>>;
}

const TABLES_SQL = `SELECT table_name AS name FROM information_schema.tables
  WHERE table_schema = current_schema() AND table_name = ANY($1)`;

const refused = (database: string, what: string, why: string): CityError =>
  new CityError('STORE_CORRUPT', `PostgreSQL database ${database}, ${what}: ${why}`, {
    details: { database },
  });

/**
 * Creates the part's schema in a database that has none of it, or checks the one there. Another version,
 * or its tables without its version table, is refused with STORE_CORRUPT saying what to do: never
 * migrated or reset silently, since that could throw away every credential of a city.
 */
export async function ensurePgComponentSchema(
  client: pg.ClientBase,
  database: string,
  schema: PgComponentSchema,
): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [schema.lock]);
    const found = await client.query<{ name: string }>(TABLES_SQL, [[schema.versionTable, ...schema.tables]]);
    let names = new Set(found.rows.map((r) => r.name));
    if (!names.has(schema.versionTable)) {
      if (names.size > 0)
        throw refused(
          database,
          schema.what,
          `tables ${[...names].join(', ')} exist but no ${schema.versionTable} version table: ` +
            'point the URL at a citymetrics database or a new, empty one',
        );
      await client.query(`CREATE TABLE ${schema.versionTable} (version integer NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()); ${schema.ddl}`);
      await client.query(`INSERT INTO ${schema.versionTable} (version) VALUES ($1)`, [schema.version]);
    } else {
      const rows = (await client.query<{ version: number }>(`SELECT version FROM ${schema.versionTable}`))
        .rows;
      let version = rows[0]?.version;
      // An older schema is brought forward in this transaction (under the lock: one node migrates it).
      if (
        rows.length === 1 &&
        version !== undefined &&
        version < schema.version &&
        migratable(schema, version)
      ) {
        for (; version < schema.version; version++) await client.query(schema.migrations![version]!);
        await client.query(`UPDATE ${schema.versionTable} SET version = $1`, [schema.version]);
        // a migration may have created tables
        names = new Set(
          (await client.query<{ name: string }>(TABLES_SQL, [[...schema.tables]])).rows.map((r) => r.name),
        );
      }
      if (rows.length !== 1 || version !== schema.version)
        throw refused(
          database,
          schema.what,
          `schema version ${version ?? 'none'}, this build reads ${schema.version}: run the citymetrics ` +
            'release that wrote it, or point the URL at a new, empty database',
        );
      const missing = schema.tables.filter((t) => !names.has(t));
      if (missing.length > 0) throw refused(database, schema.what, `tables missing: ${missing.join(', ')}`);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** True when every step from `from` to the current version has a migration. */
function migratable(schema: PgComponentSchema, from: number): boolean {
  for (let v = from; v < schema.version; v++) if (schema.migrations?.[v] === undefined) return false;
  return true;
}

/** The database name of a connection URL, for messages (never its password). */
export function pgDatabaseOf(url: string): string {
  try {
    return decodeURIComponent(new URL(url).pathname.slice(1)) || '(default)';
  } catch {
    return '(unparsable URL)';
  }
}

const INT8_OID = 20;
/** Epoch milliseconds come back as numbers: every value involved is far below 2^53. */
export function pgNumberTypes(types: typeof pg.types): { getTypeParser: typeof pg.types.getTypeParser } {
  return {
    getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
      oid === INT8_OID
        ? (v: string) => Number(v)
        : types.getTypeParser(oid, format)) as typeof types.getTypeParser,
  };
}

/** True when PostgreSQL refused a duplicate key (SQLSTATE 23505, unique_violation). */
export const isPgUniqueViolation = (err: unknown): boolean => (err as { code?: unknown }).code === '23505';
