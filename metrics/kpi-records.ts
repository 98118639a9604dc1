import type { DataQuality } from './kpi-types.ts';
import type { RestatementRecord, StoredRollup } from './rollup-types.ts';

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

/** Everything a KPI store holds, in the order the store keeps it. */
export interface KpiRecordsSnapshot {
  /** every entry, superseded ones too, by id */
  manual: ManualValueRecord[];
  /** by field, then effective date, then entry order */
  profile: ProfileRecord[];
  targets: TargetRecord[];
  /** every version of every closed period, by period then version */
  rollups: StoredRollup[];
  /** by period, version, then entry order */
  restatements: RestatementRecord[];
}

export interface ManualAppend {
  added: ManualValueRecord[];
  /** entries the append replaced: `id` now points at `by` */
  superseded: Array<{ id: number; by: number }>;
}

/**
 * Where the KPI store keeps its records: SQLite in the data directory (one process), or PostgreSQL shared
 * by several nodes. Every write is one transaction. The store above holds a copy in memory and reads only
 * that; a backend shared with other nodes tells it when they wrote, so it reloads.
 */
export interface KpiRecordsBackend {
  /** For messages: a file path or `postgres:<database>`. */
  readonly location: string;
  load(): Promise<KpiRecordsSnapshot>;
  /**
   * Appends entries (all or nothing). Each supersedes the current entry of the same subject, data point
   * and period, as the database holds it at that moment, not as a cache remembers it.
   */
  addManualValues(inputs: readonly ManualValueInput[]): Promise<ManualAppend>;
  addProfile(rows: readonly ProfileRecord[]): Promise<void>;
  /** Upserts by code and data point. */
  setTargets(records: readonly TargetRecord[]): Promise<void>;
  /**
   * Stores a roll-up version with its restatement rows. False, storing nothing, when that period already
   * has that version: another node closed or restated it first, and a period version is written once.
   */
  saveRollup(rollup: StoredRollup, restatements: readonly RestatementRecord[]): Promise<boolean>;
  /** Calls `listener` when another node wrote (or when its notifications may have been missed). */
  onChange(listener: () => void): void;
  close(): Promise<void>;
}
