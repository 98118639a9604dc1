import type Database from 'better-sqlite3';
import { storeCorrupt } from '../core/sqlite-file.ts';
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
import { openKpiDb } from './kpi-store-schema.ts';
import type { RestatementRecord, StoredRollup } from './rollup-types.ts';

/**
 * `<dataDir>/kpi.db`, the single-process backend: one process holds the file (the data directory's lock),
 * so nobody else writes and there is never anything to reload. Writes are synchronous transactions; the
 * promises only fit the shared interface.
 */
export class SqliteKpiRecords implements KpiRecordsBackend {
  private closed = false;

  private constructor(
    private readonly db: Database.Database,
    readonly location: string,
  ) {}

  /** Opens (or creates) the file; STORE_CORRUPT on a foreign or damaged one. */
  static open(file: string): SqliteKpiRecords {
    return new SqliteKpiRecords(openKpiDb(file), file);
  }

  loadSync(): KpiRecordsSnapshot {
    const all = <T>(sql: string) => this.db.prepare(sql).all() as T[];
    const corrupt: CorruptRow = (detail, cause) => storeCorrupt(this.location, detail, cause);
    return {
      manual: all<ManualRow>('SELECT * FROM manual_values ORDER BY id').map(toManual),
      profile: all<ProfileRow>('SELECT * FROM city_profile ORDER BY field, effective_from_ms, id').map(
        toProfile,
      ),
      targets: all<TargetRow>('SELECT * FROM targets ORDER BY code, data_point').map(toTarget),
      rollups: all<RollupRow>('SELECT * FROM rollups ORDER BY period, version').map((r) =>
        toRollup(r, corrupt),
      ),
      restatements: all<RestatementRow>('SELECT * FROM restatements ORDER BY period, version, id').map((r) =>
        toRestatement(r, corrupt),
      ),
    };
  }

  load(): Promise<KpiRecordsSnapshot> {
    return Promise.resolve(this.loadSync());
  }

  addManualValues(inputs: readonly ManualValueInput[]): Promise<ManualAppend> {
    const insert = this.db.prepare(
      `INSERT INTO manual_values (subject_type, subject, data_point, period, value, unit, data_quality, source,
        evidence, override, entered_by, entered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const current = this.db.prepare(
      `SELECT id FROM manual_values WHERE subject_type = ? AND subject = ? AND data_point = ? AND period = ?
        AND superseded_by IS NULL AND id <> ?`,
    );
    const supersede = this.db.prepare('UPDATE manual_values SET superseded_by = ? WHERE id = ?');
    const out: ManualAppend = { added: [], superseded: [] };
    this.db.transaction(() => {
      for (const m of inputs) {
        const info = insert.run(...manualColumns(m), m.override ? 1 : 0, m.enteredBy, m.enteredAt);
        const id = Number(info.lastInsertRowid);
        for (const row of current.all(m.subjectType, m.subject, m.dataPoint ?? '', m.period, id) as Array<{
          id: number;
        }>) {
          supersede.run(id, row.id);
          out.superseded.push({ id: row.id, by: id });
        }
        out.added.push({ ...m, id, supersededBy: null });
      }
    })();
    return Promise.resolve(out);
  }

  addProfile(rows: readonly ProfileRecord[]): Promise<void> {
    const insert = this.db.prepare(
      `INSERT INTO city_profile (field, value_num, value_text, effective_from, effective_from_ms, data_quality,
        source, entered_by, entered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.db.transaction(() => {
      for (const r of rows) insert.run(...profileColumns(r));
    })();
    return Promise.resolve();
  }

  setTargets(records: readonly TargetRecord[]): Promise<void> {
    const upsert = this.db.prepare(
      `INSERT INTO targets (code, data_point, value, source, set_by, set_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (code, data_point) DO UPDATE SET value = excluded.value, source = excluded.source,
       set_by = excluded.set_by, set_at = excluded.set_at`,
    );
    this.db.transaction(() => {
      for (const t of records) upsert.run(t.code, t.dataPoint ?? '', t.value, t.source, t.setBy, t.setAt);
    })();
    return Promise.resolve();
  }

  saveRollup(rollup: StoredRollup, restatements: readonly RestatementRecord[]): Promise<boolean> {
    const insertRollup = this.db.prepare(
      `INSERT INTO rollups (period, version, closed_at, closed_by, cause, causes, entries)
       VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (period, version) DO NOTHING`,
    );
    const insertRestatement = this.db.prepare(
      `INSERT INTO restatements (period, version, code, data_point, old_value, new_value, cause, causes, at,
         old_status, new_status, old_completeness, new_completeness)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const saved = this.db.transaction(() => {
      const info = insertRollup.run(...rollupColumns(rollup));
      if (info.changes === 0) return false;
      for (const r of restatements) insertRestatement.run(...restatementColumns(r));
      return true;
    })();
    return Promise.resolve(saved);
  }

  onChange(): void {
    // Nobody else writes this file.
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.db.close();
    }
    return Promise.resolve();
  }
}
