import { join } from 'node:path';
import type Database from 'better-sqlite3';
import type { CorruptRow } from '../../core/json-column.ts';
import { storeCorrupt } from '../../core/sqlite-file.ts';
import type { ReportPack } from './build-pack.ts';
import { openReportsDb, REPORTS_FILE_NAME } from './delivery-schema.ts';
import {
  type DeliveryRecord,
  type DeliveryTargetRef,
  type DeliveryTrigger,
  ERROR_MAX_CHARS,
  type OwedPack,
  type PackRecord,
  type ReportRecords,
} from './report-records.ts';
import {
  type DeliveryRow,
  fileHashesOf,
  type PackFileRow,
  parseManifest,
  toDelivery,
  toPackFile,
} from './report-rows.ts';

/**
 * The report delivery record in `<dataDir>/reports.db`. Every method does its work synchronously (SQLite
 * on this thread) and returns a settled promise: a write is on disk when the call returns, so a pack owed
 * from inside a month close is recorded before the close goes on.
 */
export class SqliteReportRecords implements ReportRecords {
  readonly location: string;

  private readonly corrupt: CorruptRow;

  private constructor(private readonly db: Database.Database) {
    this.location = db.name;
    this.corrupt = (detail, cause) => storeCorrupt(this.location, detail, cause);
  }

  static open(options: { dataDir?: string; file?: string; now: number }): SqliteReportRecords {
    const file = options.file ?? join(options.dataDir ?? '.', REPORTS_FILE_NAME);
    return new SqliteReportRecords(openReportsDb(file, options.now));
  }

  async createdAt(): Promise<number> {
    const row = this.db.prepare("SELECT value FROM meta WHERE key = 'created_at'").get() as
      | { value: string }
      | undefined;
    return Number(row?.value ?? 0);
  }

  async owe(month: string, version: number, trigger: DeliveryTrigger, at: number): Promise<void> {
    if (this.packed(month, version)) return;
    this.db
      .prepare('INSERT OR IGNORE INTO owed (month, version, trigger, at) VALUES (?, ?, ?, ?)')
      .run(month, version, trigger, at);
  }

  async owed(): Promise<OwedPack[]> {
    return this.db
      .prepare('SELECT month, version, trigger FROM owed ORDER BY month, version')
      .all() as OwedPack[];
  }

  async dropOwed(month: string, version: number): Promise<void> {
    this.db.prepare('DELETE FROM owed WHERE month = ? AND version = ?').run(month, version);
  }

  private packed(month: string, version: number): boolean {
    return (
      this.db.prepare('SELECT 1 FROM packs WHERE month = ? AND version = ?').get(month, version) !== undefined
    );
  }

  async hasPack(month: string, version: number): Promise<boolean> {
    return this.packed(month, version);
  }

  async savePack(
    pack: ReportPack,
    targets: readonly DeliveryTargetRef[],
    trigger: DeliveryTrigger,
    at: number,
  ): Promise<DeliveryRecord[] | null> {
    return this.db
      .transaction(() => {
        const stored = this.db
          .prepare(
            'INSERT OR IGNORE INTO packs (month, version, status, built_at, manifest) VALUES (?, ?, ?, ?, ?)',
          )
          .run(pack.month, pack.version, pack.manifest.status, at, JSON.stringify(pack.manifest));
        if (stored.changes === 0) return null;
        const insert = this.db.prepare(
          'INSERT INTO pack_files (month, version, position, name, content_type, sha256, body) VALUES (?, ?, ?, ?, ?, ?, ?)',
        );
        pack.files.forEach((f, i) => {
          insert.run(pack.month, pack.version, i, f.name, f.contentType, f.sha256, f.body);
        });
        this.db.prepare('DELETE FROM owed WHERE month = ? AND version = ?').run(pack.month, pack.version);
        return this.insertDeliveries(pack, targets, trigger, at);
      })
      .immediate();
  }

  private insertDeliveries(
    pack: Pick<ReportPack, 'month' | 'version' | 'files'>,
    targets: readonly DeliveryTargetRef[],
    trigger: DeliveryTrigger,
    at: number,
  ): DeliveryRecord[] {
    const hashes = fileHashesOf(pack.files);
    const insert = this.db.prepare(
      `INSERT INTO deliveries (month, version, target, destination, trigger, state, created_at, file_hashes)
       VALUES (?, ?, ?, ?, ?, 'pending', ?, ?) RETURNING *`,
    );
    return targets.map((t) =>
      toDelivery(
        insert.get(pack.month, pack.version, t.target, t.destination, trigger, at, hashes) as DeliveryRow,
        this.corrupt,
      ),
    );
  }

  async addDeliveries(
    pack: Pick<ReportPack, 'month' | 'version' | 'files'>,
    targets: readonly DeliveryTargetRef[],
    trigger: DeliveryTrigger,
    at: number,
  ): Promise<DeliveryRecord[]> {
    return this.db.transaction(() => this.insertDeliveries(pack, targets, trigger, at)).immediate();
  }

  async pack(month: string, version: number): Promise<ReportPack | null> {
    const row = this.db
      .prepare('SELECT manifest FROM packs WHERE month = ? AND version = ?')
      .get(month, version) as { manifest: string } | undefined;
    if (row === undefined) return null;
    const files = (
      this.db
        .prepare(
          'SELECT name, content_type, sha256, body FROM pack_files WHERE month = ? AND version = ? ORDER BY position',
        )
        .all(month, version) as PackFileRow[]
    ).map(toPackFile);
    return { month, version, manifest: parseManifest(row.manifest), files };
  }

  async latestPack(month: string): Promise<PackRecord | null> {
    const row = this.db
      .prepare(
        'SELECT month, version, status, built_at FROM packs WHERE month = ? ORDER BY version DESC LIMIT 1',
      )
      .get(month) as
      | { month: string; version: number; status: PackRecord['status']; built_at: number }
      | undefined;
    return row === undefined
      ? null
      : { month: row.month, version: row.version, status: row.status, builtAt: row.built_at };
  }

  async delivery(id: number): Promise<DeliveryRecord | null> {
    const row = this.db.prepare('SELECT * FROM deliveries WHERE id = ?').get(id) as DeliveryRow | undefined;
    return row === undefined ? null : toDelivery(row, this.corrupt);
  }

  async pending(): Promise<DeliveryRecord[]> {
    return (
      this.db.prepare("SELECT * FROM deliveries WHERE state = 'pending' ORDER BY id").all() as DeliveryRow[]
    ).map((r) => toDelivery(r, this.corrupt));
  }

  async deliveries(options: { month?: string; limit?: number } = {}): Promise<DeliveryRecord[]> {
    const limit = options.limit ?? 200;
    const rows =
      options.month === undefined
        ? this.db.prepare('SELECT * FROM deliveries ORDER BY id DESC LIMIT ?').all(limit)
        : this.db
            .prepare('SELECT * FROM deliveries WHERE month = ? ORDER BY id DESC LIMIT ?')
            .all(options.month, limit);
    return (rows as DeliveryRow[]).map((r) => toDelivery(r, this.corrupt));
  }

  async recordFailure(
    id: number,
    at: number,
    error: { code: string; message: string },
    final: boolean,
  ): Promise<void> {
    this.db
      .prepare(
        `UPDATE deliveries SET attempts = attempts + 1, last_attempt_at = ?, last_error = ?, last_error_code = ?,
         state = CASE WHEN ? THEN 'failed' ELSE state END WHERE id = ? AND state = 'pending'`,
      )
      .run(at, error.message.slice(0, ERROR_MAX_CHARS), error.code, final ? 1 : 0, id);
  }

  async recordDelivered(id: number, at: number): Promise<boolean> {
    return (
      this.db
        .prepare(
          `UPDATE deliveries SET attempts = attempts + 1, last_attempt_at = ?, delivered_at = ?, state = 'delivered'
           WHERE id = ? AND state = 'pending'`,
        )
        .run(at, at, id).changes > 0
    );
  }

  async markFailed(id: number, at: number, error: { code: string; message: string }): Promise<void> {
    this.db
      .prepare(
        `UPDATE deliveries SET state = 'failed', last_error = ?, last_error_code = ?,
         last_attempt_at = COALESCE(last_attempt_at, ?) WHERE id = ? AND state = 'pending'`,
      )
      .run(error.message.slice(0, ERROR_MAX_CHARS), error.code, at, id);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
