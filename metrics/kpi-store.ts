import { join } from 'node:path';
import type { Logger } from '../core/logger.ts';
import type {
  KpiRecordsBackend,
  KpiRecordsSnapshot,
  ManualValueInput,
  ManualValueRecord,
  ProfileRecord,
  TargetRecord,
} from './kpi-records.ts';
import { ManualValueIndex, RollupIndex } from './kpi-store-indexes.ts';
import { KPI_FILE_NAME } from './kpi-store-schema.ts';
import type { RestatementRecord, StoredRollup } from './rollup-types.ts';
import { SqliteKpiRecords } from './sqlite-kpi-records.ts';

export type {
  ManualValueInput,
  ManualValueRecord,
  ProfileField,
  ProfileRecord,
  TargetRecord,
} from './kpi-records.ts';
export { KPI_APPLICATION_ID, KPI_FILE_NAME } from './kpi-store-schema.ts';

const targetKey = (t: Pick<TargetRecord, 'code' | 'dataPoint'>) => `${t.code}\u0000${t.dataPoint ?? ''}`;

/**
 * Manual values and formula inputs with provenance, the effective-dated city profile, targets, closed
 * roll-ups with their versions, restatements: in `<dataDir>/kpi.db` (SQLite, one process) or PostgreSQL
 * (shared by the nodes of a cluster). History is kept everywhere a person or a close decided something.
 *
 * Everything is held in memory and every read is synchronous: a recompute reads these many times, and
 * they are small (a few thousand rows for years of manual entry, a few hundred entries per closed month).
 * A write resolves once its transaction committed. When another node writes, the shared backend says so
 * and the whole copy is read again; `onExternalChange` listeners hear of it after that.
 */
export class KpiStore {
  private manual = new ManualValueIndex([]);
  private profile: ProfileRecord[] = [];
  private targetMap = new Map<string, TargetRecord>();
  private rollups = new RollupIndex([], []);
  private readonly listeners = new Set<() => void>();
  /** Bumped by every local write: a reload that began before one may have missed it, so it runs again. */
  private writeSeq = 0;
  private writing = 0;
  private reloading: Promise<void> | null = null;
  private reloadAgain = false;
  private closed = false;

  private constructor(
    private readonly backend: KpiRecordsBackend,
    snapshot: KpiRecordsSnapshot,
    private readonly logger: Logger,
  ) {
    this.apply(snapshot);
    backend.onChange(() => this.reload());
  }

  /** Opens `<dataDir>/kpi.db` (or `file`); STORE_CORRUPT on a foreign or damaged file. */
  static open(options: { dataDir?: string; file?: string; logger: Logger }): KpiStore {
    const file = options.file ?? join(options.dataDir ?? '.', KPI_FILE_NAME);
    const backend = SqliteKpiRecords.open(file);
    return new KpiStore(backend, backend.loadSync(), options.logger.child({ component: 'kpi-store' }));
  }

  /** A store on any backend (PostgreSQL for a cluster); reads everything once. */
  static async openOn(backend: KpiRecordsBackend, logger: Logger): Promise<KpiStore> {
    return new KpiStore(backend, await backend.load(), logger.child({ component: 'kpi-store' }));
  }

  get location(): string {
    return this.backend.location;
  }

  /** Called after the records were read again because another node changed them. */
  onExternalChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private apply(s: KpiRecordsSnapshot): void {
    this.manual = new ManualValueIndex(s.manual);
    this.profile = s.profile;
    this.targetMap = new Map(s.targets.map((t) => [targetKey(t), t]));
    this.rollups = new RollupIndex(s.rollups, s.restatements);
  }

  /** Reads everything again (coalesced: changes during a reload cause one more, not one each). */
  reload(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.reloading !== null) {
      this.reloadAgain = true;
      return this.reloading;
    }
    this.reloading = (async () => {
      try {
        do {
          this.reloadAgain = false;
          const seq = this.writeSeq;
          const snapshot = await this.backend.load();
          // A local write in between may be missing from what was read: read again rather than lose it.
          if (this.writing > 0 || seq !== this.writeSeq) {
            this.reloadAgain = true;
            continue;
          }
          this.apply(snapshot);
        } while (this.reloadAgain && !this.closed);
      } catch (err) {
        // The copy in memory stays as it was; a second later it is read again (and on the next change).
        this.logger.warn({ err }, 'KPI records not read again; retrying in a second');
        if (!this.closed) setTimeout(() => void this.reload(), 1_000).unref();
      } finally {
        this.reloading = null;
      }
      for (const l of this.listeners) {
        try {
          l();
        } catch (err) {
          this.logger.error({ err }, 'KPI records listener threw');
        }
      }
    })();
    return this.reloading;
  }

  private async write<T>(run: () => Promise<T>): Promise<T> {
    this.writing++;
    try {
      return await run();
    } finally {
      this.writing--;
      this.writeSeq++;
    }
  }

  // ---- manual values and formula inputs

  /**
   * Appends entries in one transaction (an import is all or nothing). An entry for the same subject, data
   * point and period as a current one supersedes it: the old row stays, pointing at its successor.
   */
  addManualValues(inputs: readonly ManualValueInput[]): Promise<ManualValueRecord[]> {
    return this.write(async () => this.manual.apply(await this.backend.addManualValues(inputs)));
  }

  /** Current (not superseded) entries, optionally of one subject type. */
  currentManualValues(subjectType?: 'kpi' | 'input'): ManualValueRecord[] {
    return this.manual.currentValues(subjectType);
  }

  /** Every entry for a subject, superseded ones too, oldest first. */
  manualHistory(subjectType: 'kpi' | 'input', subject: string): ManualValueRecord[] {
    return this.manual.history(subjectType, subject);
  }

  // ---- city profile

  addProfile(rows: readonly ProfileRecord[]): Promise<void> {
    return this.write(async () => {
      await this.backend.addProfile(rows);
      // by field, then effective date, then entry order: a stable sort keeps the new rows after equal ones
      this.profile = [...this.profile, ...rows].sort((a, b) =>
        a.field === b.field ? a.effectiveFromMs - b.effectiveFromMs : a.field < b.field ? -1 : 1,
      );
    });
  }

  /** Every profile entry, by field then effective date then entry order. */
  profileRecords(): readonly ProfileRecord[] {
    return this.profile;
  }

  // ---- targets

  setTargets(records: readonly TargetRecord[]): Promise<void> {
    return this.write(async () => {
      await this.backend.setTargets(records);
      for (const t of records) this.targetMap.set(targetKey(t), t);
    });
  }

  targets(): TargetRecord[] {
    return [...this.targetMap.values()];
  }

  // ---- closed roll-ups and restatements

  /**
   * Stores a roll-up version and its restatement rows in one transaction. False when that version of the
   * period exists already (another node wrote it first): nothing is stored, the copy is read again, and the
   * caller sees the other node's version through latestRollup.
   */
  async saveRollup(rollup: StoredRollup, restatements: readonly RestatementRecord[] = []): Promise<boolean> {
    const saved = await this.write(async () => {
      const ok = await this.backend.saveRollup(rollup, restatements);
      if (ok) this.rollups.add(rollup, restatements);
      return ok;
    });
    if (!saved) {
      this.logger.info(
        { period: rollup.period, version: rollup.version },
        'period version written by another node first; reading it',
      );
      await this.reload();
      return false;
    }
    this.logger.info(
      { period: rollup.period, version: rollup.version, restated: restatements.length },
      rollup.version === 1 ? 'period closed' : 'period restated',
    );
    return true;
  }

  /** The newest version of a closed period, or null while it is open. */
  latestRollup(period: string): StoredRollup | null {
    return this.rollups.latest(period);
  }

  /** One version of a closed period. */
  rollupVersion(period: string, version: number): StoredRollup | null {
    return this.rollups.version(period, version);
  }

  /** Every version of a closed period, oldest first, without entries (the history of a roll-up). */
  rollupVersions(period: string): Array<Omit<StoredRollup, 'entries'>> {
    return this.rollups.allVersions(period).map(({ entries: _entries, ...rest }) => rest);
  }

  /** Labels of closed periods, sorted. */
  closedPeriods(): string[] {
    return this.rollups.periods();
  }

  restatements(period: string): RestatementRecord[] {
    return this.rollups.restatements(period);
  }

  /** Closes the backend; a SQLite file is closed before this returns. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return this.backend.close();
  }
}
