import { join } from 'node:path';
import type Database from 'better-sqlite3';
import type { ReportPack } from './build-pack.ts';
import { openReportsDb, REPORTS_FILE_NAME } from './delivery-schema.ts';
import { type PackManifest, packManifestSchema } from './pack-manifest.ts';

export type TargetKind = 'folder' | 'webhook';
/** Why a pack or a delivery exists: a close, a restatement, a send on demand, or the start-up catch-up. */
export type DeliveryTrigger = 'closed' | 'restated' | 'manual' | 'catch-up';
export type DeliveryState = 'pending' | 'delivered' | 'failed';

export interface DeliveryRecord {
  id: number;
  month: string;
  version: number;
  target: TargetKind;
  /** the folder, or the webhook's origin and path (never its query, which may hold a token) */
  destination: string;
  trigger: DeliveryTrigger;
  state: DeliveryState;
  attempts: number;
  lastError: string | null;
  lastErrorCode: string | null;
  /** epoch ms */
  createdAt: number;
  lastAttemptAt: number | null;
  deliveredAt: number | null;
  /** file name → SHA-256, as delivered (the manifest's included) */
  fileHashes: Record<string, string>;
}

export interface PackRecord {
  month: string;
  version: number;
  status: 'final' | 'provisional';
  builtAt: number;
}

interface DeliveryRow {
  id: number;
  month: string;
  version: number;
  target: TargetKind;
  destination: string;
  trigger: DeliveryTrigger;
  state: DeliveryState;
  attempts: number;
  last_error: string | null;
  last_error_code: string | null;
  created_at: number;
  last_attempt_at: number | null;
  delivered_at: number | null;
  file_hashes: string;
}

const toDelivery = (r: DeliveryRow): DeliveryRecord => ({
  id: r.id,
  month: r.month,
  version: r.version,
  target: r.target,
  destination: r.destination,
  trigger: r.trigger,
  state: r.state,
  attempts: r.attempts,
  lastError: r.last_error,
  lastErrorCode: r.last_error_code,
  createdAt: r.created_at,
  lastAttemptAt: r.last_attempt_at,
  deliveredAt: r.delivered_at,
  fileHashes: JSON.parse(r.file_hashes) as Record<string, string>,
});

/** Longest error text kept per delivery: a receiver's error page must not fill the record. */
const ERROR_MAX_CHARS = 500;

/** The durable record of report packs and their deliveries, `<dataDir>/reports.db`. */
export class DeliveryStore {
  private constructor(private readonly db: Database.Database) {}

  static open(options: { dataDir?: string; file?: string; now: number }): DeliveryStore {
    const file = options.file ?? join(options.dataDir ?? '.', REPORTS_FILE_NAME);
    return new DeliveryStore(openReportsDb(file, options.now));
  }

  /** When this record began (epoch ms): the start-up catch-up owes packs only for versions frozen since. */
  createdAt(): number {
    const row = this.db.prepare("SELECT value FROM meta WHERE key = 'created_at'").get() as
      | { value: string }
      | undefined;
    return Number(row?.value ?? 0);
  }

  /** A pack to build; nothing when it is owed or built already. */
  owe(month: string, version: number, trigger: DeliveryTrigger, at: number): void {
    if (this.hasPack(month, version)) return;
    this.db
      .prepare('INSERT OR IGNORE INTO owed (month, version, trigger, at) VALUES (?, ?, ?, ?)')
      .run(month, version, trigger, at);
  }

  owed(): Array<{ month: string; version: number; trigger: DeliveryTrigger }> {
    return this.db
      .prepare('SELECT month, version, trigger FROM owed ORDER BY month, version')
      .all() as Array<{
      month: string;
      version: number;
      trigger: DeliveryTrigger;
    }>;
  }

  /** A pack owed but no longer buildable (its version is gone): forgotten, said so by the caller. */
  dropOwed(month: string, version: number): void {
    this.db.prepare('DELETE FROM owed WHERE month = ? AND version = ?').run(month, version);
  }

  hasPack(month: string, version: number): boolean {
    return (
      this.db.prepare('SELECT 1 FROM packs WHERE month = ? AND version = ?').get(month, version) !== undefined
    );
  }

  /**
   * Stores a built pack and its deliveries in one transaction, and settles what was owed for it: a crash
   * leaves either the owed row (built again) or the pack with its pending deliveries.
   */
  savePack(
    pack: ReportPack,
    targets: ReadonlyArray<{ target: TargetKind; destination: string }>,
    trigger: DeliveryTrigger,
    at: number,
  ): DeliveryRecord[] {
    return this.db
      .transaction(() => {
        this.db
          .prepare('INSERT INTO packs (month, version, status, built_at, manifest) VALUES (?, ?, ?, ?, ?)')
          .run(pack.month, pack.version, pack.manifest.status, at, JSON.stringify(pack.manifest));
        const insert = this.db.prepare(
          'INSERT INTO pack_files (month, version, position, name, content_type, sha256, body) VALUES (?, ?, ?, ?, ?, ?, ?)',
        );
        pack.files.forEach((f, i) => {
          insert.run(pack.month, pack.version, i, f.name, f.contentType, f.sha256, f.body);
        });
        this.dropOwed(pack.month, pack.version);
        return this.addDeliveries(pack, targets, trigger, at);
      })
      .immediate();
  }

  /** New pending deliveries of a stored pack. */
  addDeliveries(
    pack: Pick<ReportPack, 'month' | 'version' | 'files'>,
    targets: ReadonlyArray<{ target: TargetKind; destination: string }>,
    trigger: DeliveryTrigger,
    at: number,
  ): DeliveryRecord[] {
    const hashes = JSON.stringify(Object.fromEntries(pack.files.map((f) => [f.name, f.sha256])));
    const insert = this.db.prepare(
      `INSERT INTO deliveries (month, version, target, destination, trigger, state, created_at, file_hashes)
       VALUES (?, ?, ?, ?, ?, 'pending', ?, ?) RETURNING *`,
    );
    return targets.map((t) =>
      toDelivery(
        insert.get(pack.month, pack.version, t.target, t.destination, trigger, at, hashes) as DeliveryRow,
      ),
    );
  }

  /** A stored pack with its files' bytes, or null. */
  pack(month: string, version: number): ReportPack | null {
    const row = this.db
      .prepare('SELECT manifest FROM packs WHERE month = ? AND version = ?')
      .get(month, version) as { manifest: string } | undefined;
    if (row === undefined) return null;
    const manifest: PackManifest = packManifestSchema.parse(JSON.parse(row.manifest));
    const files = (
      this.db
        .prepare(
          'SELECT name, content_type, sha256, body FROM pack_files WHERE month = ? AND version = ? ORDER BY position',
        )
        .all(month, version) as Array<{ name: string; content_type: string; sha256: string; body: Buffer }>
    ).map((f) => ({
      name: f.name,
      contentType: f.content_type,
      sha256: f.sha256,
      bytes: f.body.length,
      body: f.body,
    }));
    return { month, version, manifest, files };
  }

  /** The newest pack of a month, without its files. */
  latestPack(month: string): PackRecord | null {
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

  delivery(id: number): DeliveryRecord | null {
    const row = this.db.prepare('SELECT * FROM deliveries WHERE id = ?').get(id) as DeliveryRow | undefined;
    return row === undefined ? null : toDelivery(row);
  }

  pending(): DeliveryRecord[] {
    return (
      this.db.prepare("SELECT * FROM deliveries WHERE state = 'pending' ORDER BY id").all() as DeliveryRow[]
    ).map(toDelivery);
  }

  /** Deliveries newest first: of one month, or of all, at most `limit`. */
  deliveries(options: { month?: string; limit?: number } = {}): DeliveryRecord[] {
    const limit = options.limit ?? 200;
    const rows =
      options.month === undefined
        ? this.db.prepare('SELECT * FROM deliveries ORDER BY id DESC LIMIT ?').all(limit)
        : this.db
            .prepare('SELECT * FROM deliveries WHERE month = ? ORDER BY id DESC LIMIT ?')
            .all(options.month, limit);
    return (rows as DeliveryRow[]).map(toDelivery);
  }

  /** One failed attempt: counted, with its error, the delivery staying pending (or failed when `final`). */
  recordFailure(id: number, at: number, error: { code: string; message: string }, final: boolean): void {
    this.db
      .prepare(
        `UPDATE deliveries SET attempts = attempts + 1, last_attempt_at = ?, last_error = ?, last_error_code = ?,
         state = CASE WHEN ? THEN 'failed' ELSE state END WHERE id = ?`,
      )
      .run(at, error.message.slice(0, ERROR_MAX_CHARS), error.code, final ? 1 : 0, id);
  }

  recordDelivered(id: number, at: number): void {
    this.db
      .prepare(
        "UPDATE deliveries SET attempts = attempts + 1, last_attempt_at = ?, delivered_at = ?, state = 'delivered' WHERE id = ?",
      )
      .run(at, at, id);
  }

  /** A delivery that cannot go on (its target is no longer configured, or its attempts are spent). */
  markFailed(id: number, at: number, error: { code: string; message: string }): void {
    this.db
      .prepare(
        "UPDATE deliveries SET state = 'failed', last_error = ?, last_error_code = ?, last_attempt_at = COALESCE(last_attempt_at, ?) WHERE id = ?",
      )
      .run(error.message.slice(0, ERROR_MAX_CHARS), error.code, at, id);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
