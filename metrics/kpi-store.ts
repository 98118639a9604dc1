import { join } from 'node:path';
import type Database from 'better-sqlite3';
import type { Logger } from '../core/logger.ts';
import { KPI_FILE_NAME, openKpiDb } from './kpi-store-schema.ts';
import type { DataQuality } from './kpi-types.ts';
import type { RestatementCause, RestatementRecord, RollupEntry, StoredRollup } from './rollup-types.ts';

export { KPI_APPLICATION_ID, KPI_FILE_NAME } from './kpi-store-schema.ts';

/** A manual KPI value (`subjectType` 'kpi', subject = official code) or formula input ('input', a name). */
export interface ManualValueRecord {
  id: number;
  subjectType: 'kpi' | 'input';
  subject: string;
  dataPoint: string | null;
  /** period label: `2026-03` or `2026` */
  period: string;
  value: number;
  unit: string;
  dataQuality: DataQuality;
  source: string;
  evidence: string | null;
  /** explicitly replaces a sensor-derived value */
  override: boolean;
  /** API key name (and id) of who entered it */
  enteredBy: string;
  /** epoch ms */
  enteredAt: number;
  /** id of the entry that replaced this one; null while current */
  supersededBy: number | null;
}

export type ManualValueInput = Omit<ManualValueRecord, 'id' | 'supersededBy'>;

export type ProfileField = 'name' | 'currency' | 'population' | 'households' | 'areaKm2' | 'gdp';

export interface ProfileRecord {
  field: ProfileField;
  value: number | string;
  /** local date `YYYY-MM-DD` from which the figure holds */
  effectiveFrom: string;
  /** epoch ms of local midnight of effectiveFrom */
  effectiveFromMs: number;
  dataQuality: DataQuality | null;
  source: string | null;
  enteredBy: string;
  enteredAt: number;
}

export interface TargetRecord {
  code: string;
  dataPoint: string | null;
  value: number;
  source: string;
  setBy: string;
  setAt: number;
}

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

const manualKey = (m: Pick<ManualValueRecord, 'subjectType' | 'subject' | 'dataPoint' | 'period'>): string =>
  `${m.subjectType}\u0000${m.subject}\u0000${m.dataPoint ?? ''}\u0000${m.period}`;

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

/**
 * `<dataDir>/kpi.db`: manual values and formula inputs with provenance, the effective-dated city profile,
 * targets, closed roll-ups with their versions, restatements. Current manual values, the profile, targets
 * and the newest version of each closed roll-up are also held in memory: a recompute reads them many times,
 * and they are small (a few thousand rows for years of manual entry).
 */
export class KpiStore {
  private readonly current = new Map<string, ManualValueRecord>();
  private profile: ProfileRecord[] = [];
  private readonly targetMap = new Map<string, TargetRecord>();
  private readonly latest = new Map<string, StoredRollup>();
  private closed = false;

  private constructor(
    private readonly db: Database.Database,
    private readonly logger: Logger,
  ) {
    const rows = db.prepare('SELECT * FROM manual_values WHERE superseded_by IS NULL').all() as ManualRow[];
    for (const r of rows) {
      const m = toManual(r);
      this.current.set(manualKey(m), m);
    }
    this.profile = this.readProfile();
    const targets = db.prepare('SELECT * FROM targets').all() as Array<{
      code: string;
      data_point: string;
      value: number;
      source: string;
      set_by: string;
      set_at: number;
    }>;
    for (const t of targets) {
      const rec: TargetRecord = {
        code: t.code,
        dataPoint: t.data_point === '' ? null : t.data_point,
        value: t.value,
        source: t.source,
        setBy: t.set_by,
        setAt: t.set_at,
      };
      this.targetMap.set(`${t.code}\u0000${t.data_point}`, rec);
    }
    const latest = db
      .prepare(
        'SELECT r.* FROM rollups r JOIN (SELECT period, MAX(version) AS v FROM rollups GROUP BY period) m ON r.period = m.period AND r.version = m.v',
      )
      .all() as RollupRow[];
    for (const r of latest) this.latest.set(r.period, toRollup(r));
  }

  /** Opens `<dataDir>/kpi.db` (or `file`); STORE_CORRUPT on a foreign or damaged file. */
  static open(options: { dataDir?: string; file?: string; logger: Logger }): KpiStore {
    const file = options.file ?? join(options.dataDir ?? '.', KPI_FILE_NAME);
    return new KpiStore(openKpiDb(file), options.logger.child({ component: 'kpi-store' }));
  }

  // ---- manual values and formula inputs

  /**
   * Appends entries in one transaction (an import is all or nothing). An entry for the same subject, data
   * point and period as a current one supersedes it: the old row stays, pointing at its successor.
   */
  addManualValues(inputs: readonly ManualValueInput[]): ManualValueRecord[] {
    const insert = this.db.prepare(
      `INSERT INTO manual_values (subject_type, subject, data_point, period, value, unit, data_quality, source,
        evidence, override, entered_by, entered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const supersede = this.db.prepare('UPDATE manual_values SET superseded_by = ? WHERE id = ?');
    const added: ManualValueRecord[] = [];
    const replaced = new Map<string, ManualValueRecord>();
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
        const rec: ManualValueRecord = { ...m, id: Number(info.lastInsertRowid), supersededBy: null };
        const key = manualKey(rec);
        const previous = replaced.get(key) ?? this.current.get(key);
        if (previous !== undefined) supersede.run(rec.id, previous.id);
        replaced.set(key, rec);
        added.push(rec);
      }
    })();
    for (const [key, rec] of replaced) this.current.set(key, rec);
    return added;
  }

  /** Current (not superseded) entries, optionally of one subject type. */
  currentManualValues(subjectType?: 'kpi' | 'input'): ManualValueRecord[] {
    const all = [...this.current.values()];
    return subjectType === undefined ? all : all.filter((m) => m.subjectType === subjectType);
  }

  /** Every entry for a subject, superseded ones too, oldest first. */
  manualHistory(subjectType: 'kpi' | 'input', subject: string): ManualValueRecord[] {
    const rows = this.db
      .prepare('SELECT * FROM manual_values WHERE subject_type = ? AND subject = ? ORDER BY id')
      .all(subjectType, subject) as ManualRow[];
    return rows.map(toManual);
  }

  // ---- city profile

  addProfile(rows: readonly ProfileRecord[]): void {
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
    this.profile = this.readProfile();
  }

  /** Every profile entry, by field then effective date then entry order. */
  profileRecords(): readonly ProfileRecord[] {
    return this.profile;
  }

  private readProfile(): ProfileRecord[] {
    const rows = this.db
      .prepare('SELECT * FROM city_profile ORDER BY field, effective_from_ms, id')
      .all() as Array<{
      field: ProfileField;
      value_num: number | null;
      value_text: string | null;
      effective_from: string;
      effective_from_ms: number;
      data_quality: string | null;
      source: string | null;
      entered_by: string;
      entered_at: number;
    }>;
    return rows.map((r) => ({
      field: r.field,
      value: r.value_num ?? r.value_text ?? '',
      effectiveFrom: r.effective_from,
      effectiveFromMs: r.effective_from_ms,
      dataQuality: r.data_quality as DataQuality | null,
      source: r.source,
      enteredBy: r.entered_by,
      enteredAt: r.entered_at,
    }));
  }

  // ---- targets

  setTargets(records: readonly TargetRecord[]): void {
    const upsert = this.db.prepare(
      `INSERT INTO targets (code, data_point, value, source, set_by, set_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (code, data_point) DO UPDATE SET value = excluded.value, source = excluded.source,
       set_by = excluded.set_by, set_at = excluded.set_at`,
    );
    this.db.transaction(() => {
      for (const t of records) upsert.run(t.code, t.dataPoint ?? '', t.value, t.source, t.setBy, t.setAt);
    })();
    for (const t of records) this.targetMap.set(`${t.code}\u0000${t.dataPoint ?? ''}`, t);
  }

  targets(): TargetRecord[] {
    return [...this.targetMap.values()];
  }

  // ---- closed roll-ups and restatements

  /** Stores a roll-up version and its restatement rows in one transaction. */
  saveRollup(rollup: StoredRollup, restatements: readonly RestatementRecord[] = []): void {
    const insertRollup = this.db.prepare(
      'INSERT INTO rollups (period, version, closed_at, closed_by, cause, causes, entries) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    const insertRestatement = this.db.prepare(
      `INSERT INTO restatements (period, version, code, data_point, old_value, new_value, cause, causes, at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.db.transaction(() => {
      insertRollup.run(
        rollup.period,
        rollup.version,
        rollup.closedAt,
        rollup.closedBy,
        rollup.cause,
        JSON.stringify(rollup.causes),
        JSON.stringify(rollup.entries),
      );
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
    })();
    this.latest.set(rollup.period, rollup);
    this.logger.info(
      { period: rollup.period, version: rollup.version, restated: restatements.length },
      rollup.version === 1 ? 'period closed' : 'period restated',
    );
  }

  /** The newest version of a closed period, or null while it is open. */
  latestRollup(period: string): StoredRollup | null {
    return this.latest.get(period) ?? null;
  }

  /** One version of a closed period. */
  rollupVersion(period: string, version: number): StoredRollup | null {
    const row = this.db
      .prepare('SELECT * FROM rollups WHERE period = ? AND version = ?')
      .get(period, version) as RollupRow | undefined;
    return row === undefined ? null : toRollup(row);
  }

  /** Every version of a closed period, oldest first, without entries (the history of a roll-up). */
  rollupVersions(period: string): Array<Omit<StoredRollup, 'entries'>> {
    const rows = this.db
      .prepare(
        'SELECT period, version, closed_at, closed_by, cause, causes FROM rollups WHERE period = ? ORDER BY version',
      )
      .all(period) as Array<Omit<RollupRow, 'entries'>>;
    return rows.map((r) => ({
      period: r.period,
      version: r.version,
      closedAt: r.closed_at,
      closedBy: r.closed_by,
      cause: r.cause,
      causes: JSON.parse(r.causes) as RestatementCause[],
    }));
  }

  /** Labels of closed periods, sorted. */
  closedPeriods(): string[] {
    return [...this.latest.keys()].sort();
  }

  restatements(period: string): RestatementRecord[] {
    const rows = this.db
      .prepare('SELECT * FROM restatements WHERE period = ? ORDER BY version, id')
      .all(period) as Array<{
      period: string;
      version: number;
      code: string;
      data_point: string;
      old_value: number | null;
      new_value: number | null;
      cause: string;
      causes: string;
      at: number;
    }>;
    return rows.map((r) => ({
      period: r.period,
      version: r.version,
      code: r.code,
      dataPoint: r.data_point === '' ? null : r.data_point,
      oldValue: r.old_value,
      newValue: r.new_value,
      cause: r.cause,
      causes: JSON.parse(r.causes) as RestatementCause[],
      at: r.at,
    }));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
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

const toRollup = (r: RollupRow): StoredRollup => ({
  period: r.period,
  version: r.version,
  closedAt: r.closed_at,
  closedBy: r.closed_by,
  cause: r.cause,
  causes: JSON.parse(r.causes) as RestatementCause[],
  entries: JSON.parse(r.entries) as RollupEntry[],
});
