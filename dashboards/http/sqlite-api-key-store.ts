import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { CityError } from '../../core/errors.ts';
import { type CorruptRow, checkedJson } from '../../core/json-column.ts';
import {
  type ApiKeyPersistence,
  type ApiKeyRow,
  type RevokeOutcome,
  type TileLayoutRow,
  tileCodesSchema,
} from '../../core/ports/api-key-persistence.ts';
import { openCitymetricsDb, storeCorrupt } from '../../core/sqlite-file.ts';

/** 'CMAK': citymetrics access keys. */
export const ACCESS_APPLICATION_ID = 0x434d414b;
export const ACCESS_SCHEMA_VERSION = 2;
export const ACCESS_FILE_NAME = 'access.db';

interface KeyRow {
  id: string;
  name: string;
  role: string;
  key_hash: string;
  created_at: number;
  revoked_at: number | null;
}

const toRow = (r: KeyRow): ApiKeyRow => ({
  id: r.id,
  name: r.name,
  role: r.role,
  keyHash: r.key_hash,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
});

interface LayoutRow {
  role: string;
  codes: string;
  updated_by: string;
  updated_at: number;
}

const toLayout = (r: LayoutRow, corrupt: CorruptRow): TileLayoutRow => ({
  role: r.role,
  codes: checkedJson(tileCodesSchema, r.codes, `tile layout ${r.role}, codes`, corrupt),
  updatedBy: r.updated_by,
  updatedAt: r.updated_at,
});

/**
 * API keys and the per-role tile layouts in `<dataDir>/access.db`. Each method does its SQL synchronously when called and returns a
 * settled promise, so a key created or revoked is on disk when the call returns, and close() has closed
 * the file when it returns.
 */
export class SqliteApiKeyStore implements ApiKeyPersistence {
  private constructor(
    private readonly db: Database.Database,
    readonly location: string,
  ) {}

  /** Opens (or creates) the access database. STORE_CORRUPT if it is damaged, not ours, or newer. */
  static open(dataDir: string): SqliteApiKeyStore {
    const file = join(dataDir, ACCESS_FILE_NAME);
    return new SqliteApiKeyStore(openAccessDb(file), file);
  }

  get(id: string): Promise<ApiKeyRow | undefined> {
    return settle(() => this.rowNow(id));
  }

  list(): Promise<ApiKeyRow[]> {
    return settle(() =>
      (this.db.prepare('SELECT * FROM api_keys ORDER BY created_at, id').all() as KeyRow[]).map(toRow),
    );
  }

  hasValidAdmin(): Promise<boolean> {
    return settle(
      () =>
        this.db
          .prepare("SELECT 1 FROM api_keys WHERE role = 'admin' AND revoked_at IS NULL LIMIT 1")
          .get() !== undefined,
    );
  }

  insert(row: Omit<ApiKeyRow, 'revokedAt'>): Promise<void> {
    return settle(() => {
      try {
        this.db
          .prepare('INSERT INTO api_keys (id, name, role, key_hash, created_at) VALUES (?, ?, ?, ?, ?)')
          .run(row.id, row.name, row.role, row.keyHash, row.createdAt);
      } catch (err) {
        if ((err as { code?: unknown }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY')
          throw new CityError('API_CONFLICT', `API key ${row.id} already exists`, {
            field: 'id',
            cause: err,
          });
        throw err;
      }
    });
  }

  putAdmin(id: string, keyHash: string, createdAt: number): Promise<void> {
    return settle(() => {
      this.db
        .prepare(
          `INSERT INTO api_keys (id, name, role, key_hash, created_at) VALUES (?, 'admin', 'admin', ?, ?)
           ON CONFLICT (id) DO UPDATE SET role = 'admin', key_hash = excluded.key_hash, revoked_at = NULL`,
        )
        .run(id, keyHash, createdAt);
    });
  }

  revoke(id: string, at: number): Promise<RevokeOutcome> {
    return settle(() =>
      this.db.transaction((): RevokeOutcome => {
        const row = this.rowNow(id);
        if (!row || row.revokedAt !== null) return { outcome: 'not-found' };
        if (row.role === 'admin') {
          const admins = this.db
            .prepare("SELECT COUNT(*) AS n FROM api_keys WHERE role = 'admin' AND revoked_at IS NULL")
            .get() as { n: number };
          if (admins.n <= 1) return { outcome: 'last-admin' };
        }
        this.db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ?').run(at, id);
        return { outcome: 'revoked', row: { ...row, revokedAt: at } };
      })(),
    );
  }

  getTileLayout(role: string): Promise<TileLayoutRow | undefined> {
    return settle(() => {
      const row = this.db.prepare('SELECT * FROM tile_layouts WHERE role = ?').get(role) as
        | LayoutRow
        | undefined;
      return row && toLayout(row, (detail, cause) => storeCorrupt(this.location, detail, cause));
    });
  }

  putTileLayout(row: TileLayoutRow): Promise<void> {
    return settle(() => {
      this.db
        .prepare(
          `INSERT INTO tile_layouts (role, codes, updated_by, updated_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (role) DO UPDATE SET codes = excluded.codes, updated_by = excluded.updated_by,
             updated_at = excluded.updated_at`,
        )
        .run(row.role, JSON.stringify(row.codes), row.updatedBy, row.updatedAt);
    });
  }

  deleteTileLayout(role: string): Promise<boolean> {
    return settle(() => this.db.prepare('DELETE FROM tile_layouts WHERE role = ?').run(role).changes > 0);
  }

  close(): Promise<void> {
    return settle(() => {
      if (this.db.open) this.db.close();
    });
  }

  private rowNow(id: string): ApiKeyRow | undefined {
    const row = this.db.prepare('SELECT * FROM api_keys WHERE id = ?').get(id) as KeyRow | undefined;
    return row && toRow(row);
  }
}

/** Runs synchronous work now and reports its result or its error as a settled promise. */
function settle<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * migrations[v] takes the file from schema version v to v + 1, in the opener's one transaction. Append only:
 * a released step is never edited, a change of schema is a new step and a new schema version.
 */
const MIGRATIONS: ReadonlyArray<(db: Database.Database) => void> = [
  (db) => {
    db.exec(`
      CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'analyst', 'admin')),
        key_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER
      ) STRICT;
    `);
  },
  // 2: the KPI tiles each role sees on the overview (codes: JSON array, in order)
  (db) => {
    db.exec(`
      CREATE TABLE tile_layouts (
        role TEXT PRIMARY KEY CHECK (role IN ('viewer', 'operator', 'analyst', 'admin')),
        codes TEXT NOT NULL,
        updated_by TEXT NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;
    `);
  },
];

/**
 * A file that is not SQLite, SQLite that is not ours, or ours from a newer version stops the platform with
 * STORE_CORRUPT: silently re-creating it would drop every key.
 */
function openAccessDb(file: string): Database.Database {
  return openCitymetricsDb({
    file,
    what: 'access database',
    applicationId: ACCESS_APPLICATION_ID,
    schemaVersion: ACCESS_SCHEMA_VERSION,
    migrate(db, from) {
      for (let v = from; v < ACCESS_SCHEMA_VERSION; v++) MIGRATIONS[v]!(db);
    },
  });
}
