import type Database from 'better-sqlite3';
import type {
  KpiRecordsBackend,
  KpiRecordsSnapshot,
  ManualAppend,
  ManualValueInput,
  ManualValueRecord,
  ProfileField,
  ProfileRecord,
  TargetRecord,
} from './kpi-records.ts';
import { openKpiDb } from './kpi-store-schema.ts';
import type { DataQuality } from './kpi-types.ts';
import type { RestatementCause, RestatementRecord, RollupEntry, StoredRollup } from './rollup-types.ts';

interface ManualRow {
  id: number;
  subject_type: 'kpi' | 'input';
  subject: string;
  data_point: string;
  period: string;
  value: number;
  unit: string;
  data_quality: string;
  source: string;
  evidence: string | null;
  override: number;
  entered_by: string;
  entered_at: number;
  superseded_by: number | null;
}

interface RollupRow {
  period: string;
  version: number;
  closed_at: number;
  closed_by: string;
  cause: string;
  causes: string;
  entries: string;
}

const toManual = (r: ManualRow): ManualValueRecord => ({
  id: r.id,
  subjectType: r.subject_type,
  subject: r.subject,
  dataPoint: r.data_point === '' ? null : r.data_point,
  period: r.period,
  value: r.value,
  unit: r.unit,
  dataQuality: r.data_quality as DataQuality,
  source: r.source,
  evidence: r.evidence,
  override: r.override === 1,
  enteredBy: r.entered_by,
  enteredAt: r.entered_at,
  supersededBy: r.superseded_by,
});

const toRollup = (r: RollupRow): StoredRollup => ({
  period: r.period,
  version: r.version,
  closedAt: r.closed_at,
  closedBy: r.closed_by,
  cause: r.cause,
  causes: JSON.parse(r.causes) as RestatementCause[],
  entries: JSON.parse(r.entries) as RollupEntry[],
});

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
    const db = this.db;
    const manual = (db.prepare('SELECT * FROM manual_values ORDER BY id').all() as ManualRow[]).map(toManual);
    const profile = (
      db.prepare('SELECT * FROM city_profile ORDER BY field, effective_from_ms, id').all() as Array<{
        field: ProfileField;
        value_num: number | null;
        value_text: string | null;
        effective_from: string;
        effective_from_ms: number;
        data_quality: string | null;
        source: string | null;
        entered_by: string;
        entered_at: number;
      }>
    ).map(
      (r): ProfileRecord => ({
        field: r.field,
        value: r.value_num ?? r.value_text ?? '',
        effectiveFrom: r.effective_from,
        effectiveFromMs: r.effective_from_ms,
        dataQuality: r.data_quality as DataQuality | null,
        source: r.source,
        enteredBy: r.entered_by,
        enteredAt: r.entered_at,
      }),
    );
    const targets = (
      db.prepare('SELECT * FROM targets ORDER BY code, data_point').all() as Array<{
        code: string;
        data_point: string;
        value: number;
        source: string;
        set_by: string;
        set_at: number;
      }>
    ).map(
      (t): TargetRecord => ({
        code: t.code,
        dataPoint: t.data_point === '' ? null : t.data_point,
        value: t.value,
        source: t.source,
        setBy: t.set_by,
        setAt: t.set_at,
      }),
    );
    const rollups = (db.prepare('SELECT * FROM rollups ORDER BY period, version').all() as RollupRow[]).map(
      toRollup,
    );
    const restatements = (
      db.prepare('SELECT * FROM restatements ORDER BY period, version, id').all() as Array<{
        period: string;
        version: number;
        code: string;
        data_point: string;
        old_value: number | null;
        new_value: number | null;
        cause: string;
        causes: string;
        at: number;
      }>
    ).map(
      (r): RestatementRecord => ({
        period: r.period,
        version: r.version,
        code: r.code,
        dataPoint: r.data_point === '' ? null : r.data_point,
        oldValue: r.old_value,
        newValue: r.new_value,
        cause: r.cause,
        causes: JSON.parse(r.causes) as RestatementCause[],
        at: r.at,
      }),
    );
    return { manual, profile, targets, rollups, restatements };
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
        const info = insert.run(
          m.subjectType,
          m.subject,
          m.dataPoint ?? '',
          m.period,
          m.value,
          m.unit,
          m.dataQuality,
          m.source,
          m.evidence,
          m.override ? 1 : 0,
          m.enteredBy,
          m.enteredAt,
        );
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
      for (const r of rows)
        insert.run(
          r.field,
          typeof r.value === 'number' ? r.value : null,
          typeof r.value === 'string' ? r.value : null,
          r.effectiveFrom,
          r.effectiveFromMs,
          r.dataQuality,
          r.source,
          r.enteredBy,
          r.enteredAt,
        );
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
      `INSERT INTO restatements (period, version, code, data_point, old_value, new_value, cause, causes, at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const saved = this.db.transaction(() => {
      const info = insertRollup.run(
        rollup.period,
        rollup.version,
        rollup.closedAt,
        rollup.closedBy,
        rollup.cause,
        JSON.stringify(rollup.causes),
        JSON.stringify(rollup.entries),
      );
      if (info.changes === 0) return false;
      for (const r of restatements)
        insertRestatement.run(
          r.period,
          r.version,
          r.code,
          r.dataPoint ?? '',
          r.oldValue,
          r.newValue,
          r.cause,
          JSON.stringify(r.causes),
          r.at,
        );
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
