import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { LOG_APPLICATION_ID, LOG_SCHEMA_VERSION, openLogDatabase } from './log-schema.ts';

/** The durable log as schema 1 wrote it: one row per value. */
const LOG_V1 = `
CREATE TABLE log (
  seq INTEGER PRIMARY KEY, received_at INTEGER NOT NULL, device_id TEXT NOT NULL, kind TEXT NOT NULL,
  district TEXT NOT NULL, metric TEXT NOT NULL, ts INTEGER NOT NULL, value REAL NOT NULL
);
CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('materialized_seq', 0);
PRAGMA application_id = ${LOG_APPLICATION_ID};
PRAGMA user_version = 1;
`;

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('durable log migration 1 → 2', () => {
  it('tells its progress in 50 000-row steps and keeps every row', () => {
    const dir = mkdtempSync(join(tmpdir(), 'citymetrics-log-migration-'));
    dirs.push(dir);
    const file = join(dir, 'log.db');
    const rows = 120_001;
    const v1 = new Database(file);
    v1.exec(LOG_V1);
    const insert = v1.prepare(
      "INSERT INTO log VALUES (?, ?, 'noise-1', 'noise-monitor', 'Centre', 'laeq', ?, ?)",
    );
    v1.transaction(() => {
      // Seqs with a gap, as retention leaves them: progress counts rows, not seqs.
      for (let i = 0; i < rows; i++) insert.run(i < 10 ? i + 1 : i + 1001, i, i * 1000, 40 + (i % 50));
    })();
    v1.close();

    const seen: Array<[number, number]> = [];
    const files = new Set<string>();
    const db = openLogDatabase(file, 'normal', undefined, ({ done, total, file: f }) => {
      files.add(f);
      seen.push([done, total]);
    });
    try {
      expect([...files]).toEqual([file]);
      expect(seen).toEqual([
        [0, rows],
        [50_000, rows],
        [100_000, rows],
        [rows, rows],
      ]);
      expect(db.pragma('user_version', { simple: true })).toBe(LOG_SCHEMA_VERSION);
      const stats = db
        .prepare('SELECT count(*) AS n, sum(n) AS values_, max(seq) AS last FROM log')
        .get() as {
        n: number;
        values_: number;
        last: number;
      };
      expect(stats).toEqual({ n: rows, values_: rows, last: rows + 1000 });
      const row = db.prepare('SELECT vals FROM log WHERE seq = 1011').pluck().get() as string;
      expect(JSON.parse(row)).toEqual([['laeq', 10_000, 50]]);
    } finally {
      db.close();
    }
  });
});
