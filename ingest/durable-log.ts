import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type Database from 'better-sqlite3';
import type { Clock, ClockTimer } from '../core/clock.ts';
import { CityError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { type PackedPoints, PointPacker } from '../core/packed-points.ts';
import type { SeriesPoint } from '../core/ports/series-store.ts';
import type { NormalizedValue } from '../core/reading-schema.ts';
import { type MigrationProgress, openLogDatabase } from './log-schema.ts';

export interface DeviceContext {
  deviceId: string;
  kind: string;
  district: string;
}

export interface EventEntry extends DeviceContext {
  type: string;
  ts: number;
  data: Record<string, string | number | boolean | null> | null;
}

export interface DeviceEventRecord extends EventEntry {
  /** epoch ms the platform committed it */
  receivedAt: number;
}

export interface EventQuery {
  deviceIds?: readonly string[];
  types?: readonly string[];
  /** inclusive, epoch ms */
  from: number;
  /** exclusive, epoch ms */
  to: number;
  /** At most this many, oldest first. Default 100 000. */
  limit?: number;
}

/** Values committed together, packed, with their contiguous seq range in `log`. */
export interface CommittedBatch {
  packed: PackedPoints;
  /** values in the batch */
  size: number;
  firstSeq: number;
  lastSeq: number;
}

/** Values read back from the log by seq (recovery, or a backlog dropped from memory). */
export interface LogRead {
  points: SeriesPoint[];
  firstSeq: number;
  lastSeq: number;
}

export interface DurableLogOptions {
  dataDir: string;
  sync: 'normal' | 'full';
  /** Group commit: commit as soon as this many values wait. */
  flushMaxValues: number;
  /** Group commit: commit at the latest this long after the first value was queued (ms). */
  flushIntervalMs: number;
  /** Stamps commits (received_at) and times the group commit. */
  clock: Clock;
  logger: Logger;
  /** Called after every commit holding readings, with the committed values: the materializer's feed. */
  onCommit?: (batch: CommittedBatch) => void;
  /** Duration of each commit, in seconds (telemetry). */
  onCommitSeconds?: (seconds: number) => void;
  /** Progress of a schema migration at open (a large log takes seconds). */
  onMigrationProgress?: MigrationProgress;
}

interface Pending {
  ctx: DeviceContext;
  values: readonly NormalizedValue[] | null;
  event: EventEntry | null;
  fresh: boolean;
  resolve: (fresh: boolean) => void;
  reject: (err: CityError) => void;
}

const PRUNE_CHUNK_ROWS = 5_000;
const DAY_MS = 86_400_000;

/**
 * The durable log: `<dataDir>/log.db`, append-only, the boundary of "acknowledged =
 * kept". Appends are queued and committed together (group commit) when `flushMaxValues` values wait or
 * `flushIntervalMs` has passed, in ONE transaction, then every waiter resolves.
 *
 * Bounded by construction: the append that brings the queue to `flushMaxValues` commits it synchronously, so
 * the queue never holds more than that plus one message, and a fast producer pays for its own commits
 * (better-sqlite3 is synchronous: that IS the backpressure, no unbounded queue can form behind it).
 */
export class DurableLog {
  readonly file: string;
  private readonly db: Database.Database;
  private readonly opts: DurableLogOptions;
  private readonly insertMessage: Database.Statement;
  private readonly insertEventLog: Database.Statement;
  private readonly insertDeviceEvent: Database.Statement;
  private readonly updateMaterialized: Database.Statement;
  private readonly selectFrom: Database.Statement;
  private readonly commitTx: (items: Pending[]) => number;
  private queue: Pending[] = [];
  private queued = 0;
  private timer: ClockTimer | null = null;
  private lastCommitAt = 0;
  private committed: number;
  private materialized: number;
  private closed = false;

  private constructor(db: Database.Database, file: string, opts: DurableLogOptions) {
    this.db = db;
    this.file = file;
    this.opts = opts;
    this.insertMessage = db.prepare(
      'INSERT INTO log (seq, n, received_at, device_id, kind, district, vals) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.insertEventLog = db.prepare(
      'INSERT INTO events_log (received_at, device_id, kind, district, type, ts, data) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.insertDeviceEvent = db.prepare(
      'INSERT OR IGNORE INTO device_events (device_id, type, ts, kind, district, data, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.updateMaterialized = db.prepare("UPDATE meta SET value = ? WHERE key = 'materialized_seq'");
    // From the message holding `seq` (the last one starting at or before it) on; `limit` values need at
    // most `limit` messages.
    this.selectFrom = db
      .prepare(
        `SELECT seq, device_id, kind, district, vals FROM log
         WHERE seq >= coalesce((SELECT max(seq) FROM log WHERE seq <= @seq), 0)
         ORDER BY seq LIMIT @limit`,
      )
      .raw();
    this.materialized =
      (db.prepare("SELECT value FROM meta WHERE key = 'materialized_seq'").pluck().get() as number) ?? 0;
    const maxSeq =
      (db.prepare('SELECT seq + n - 1 FROM log ORDER BY seq DESC LIMIT 1').pluck().get() as
        | number
        | undefined) ?? 0;
    // Retention may have emptied the log: seqs must still never go back below what was materialized.
    this.committed = Math.max(maxSeq, this.materialized);
    this.commitTx = db.transaction((items: Pending[]) => this.writeItems(items));
  }

  static open(opts: DurableLogOptions): DurableLog {
    const file = join(opts.dataDir, 'log.db');
    return new DurableLog(
      openLogDatabase(file, opts.sync, opts.logger, opts.onMigrationProgress),
      file,
      opts,
    );
  }

  /** Highest seq committed to `log`. */
  get committedSeq(): number {
    return this.committed;
  }

  /** Highest seq the series store holds everything up to. */
  get materializedSeq(): number {
    return this.materialized;
  }

  /** Values queued for the next commit. */
  get queuedValues(): number {
    return this.queued;
  }

  /** Resolves once the values are committed; rejects with a retryable error if the commit fails. */
  appendReadings(ctx: DeviceContext, values: readonly NormalizedValue[]): Promise<void> {
    return this.enqueue(ctx, values, null, values.length).then(noop);
  }

  /** Resolves once committed, with false when the same (device, type, ts) was already recorded. */
  appendEvent(event: EventEntry): Promise<boolean> {
    return this.enqueue(event, null, event, 1);
  }

  private enqueue(
    ctx: DeviceContext,
    values: readonly NormalizedValue[] | null,
    event: EventEntry | null,
    count: number,
  ): Promise<boolean> {
    if (this.closed) return Promise.reject(new CityError('INGEST_SHUTTING_DOWN'));
    return new Promise<boolean>((resolve, reject) => {
      this.queue.push({ ctx, values, event, fresh: true, resolve, reject });
      this.queued += count;
      if (this.queued >= this.opts.flushMaxValues) this.flush();
      else this.timer ??= this.opts.clock.setTimeout(this.onTimer, this.opts.flushIntervalMs);
    });
  }

  private readonly onTimer = (): void => {
    this.timer = null;
    this.flush();
  };

  /** Commits everything queued now, in one transaction. */
  flush(): void {
    this.timer?.cancel();
    this.timer = null;
    if (this.queue.length === 0) return;
    const items = this.queue;
    this.queue = [];
    this.queued = 0;
    const firstSeq = this.committed + 1;
    const started = performance.now();
    let lastSeq: number;
    try {
      lastSeq = this.commitTx(items);
    } catch (err) {
      this.opts.logger.error({ err, file: this.file, messages: items.length }, 'durable log commit failed');
      const error = new CityError(
        'INGEST_STORE_UNAVAILABLE',
        `durable log commit failed: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
      for (const item of items) item.reject(error);
      return;
    }
    this.opts.onCommitSeconds?.((performance.now() - started) / 1000);
    this.committed = lastSeq;
    for (const item of items) item.resolve(item.fresh);
    if (lastSeq >= firstSeq && this.opts.onCommit !== undefined) {
      this.opts.onCommit({
        packed: this.packedOf(items, lastSeq - firstSeq + 1),
        size: lastSeq - firstSeq + 1,
        firstSeq,
        lastSeq,
      });
    }
  }

  /** Runs inside the transaction; returns the last seq written. */
  private writeItems(items: Pending[]): number {
    // received_at never goes backwards, so retention can delete rowid ranges from the start.
    const at = Math.max(this.lastCommitAt, this.opts.clock.now());
    this.lastCommitAt = at;
    let seq = this.committed;
    for (const item of items) {
      const { deviceId, kind, district } = item.ctx;
      if (item.values !== null) {
        const n = item.values.length;
        if (n === 0) continue;
        this.insertMessage.run(seq + 1, n, at, deviceId, kind, district, encodeValues(item.values));
        seq += n;
      } else if (item.event !== null) {
        const e = item.event;
        const data = e.data === null ? null : JSON.stringify(e.data);
        this.insertEventLog.run(at, deviceId, kind, district, e.type, e.ts, data);
        item.fresh = this.insertDeviceEvent.run(deviceId, e.type, e.ts, kind, district, data, at).changes > 0;
      }
    }
    return seq;
  }

  /** The committed values straight into the packed form the materializer keeps (no object per value). */
  private packedOf(items: Pending[], size: number): PackedPoints {
    const packer = new PointPacker(size);
    for (const item of items) {
      if (item.values === null) continue;
      const { deviceId, kind, district } = item.ctx;
      for (const v of item.values) packer.add(deviceId, kind, district, v.metric, v.ts, v.value);
    }
    return packer.finish().packed;
  }

  /** Values from `seq` on, in seq order, at most `limit` (recovery, and a backlog too large to keep in memory). */
  readFrom(seq: number, limit: number): LogRead {
    const rows = this.selectFrom.all({ seq, limit }) as Array<[number, string, string, string, string]>;
    const points: SeriesPoint[] = [];
    let firstSeq = -1;
    let lastSeq = seq - 1;
    for (const [first, deviceId, kind, district, vals] of rows) {
      const values = JSON.parse(vals) as EncodedValue[];
      for (let i = 0; i < values.length && points.length < limit; i++) {
        const at = first + i;
        if (at < seq) continue;
        const [metric, ts, value] = values[i]!;
        points.push({ deviceId, kind, district, metric, ts, value });
        if (firstSeq < 0) firstSeq = at;
        lastSeq = at;
      }
      if (points.length >= limit) break;
    }
    return { points, firstSeq: firstSeq < 0 ? seq : firstSeq, lastSeq };
  }

  setMaterializedSeq(seq: number): void {
    if (seq <= this.materialized) return;
    this.updateMaterialized.run(seq);
    this.materialized = seq;
  }

  queryEvents(q: EventQuery): DeviceEventRecord[] {
    const where = ['ts >= ?', 'ts < ?'];
    const params: Array<string | number> = [q.from, q.to];
    if (q.deviceIds !== undefined) {
      if (q.deviceIds.length === 0) return [];
      where.push(`device_id IN (${q.deviceIds.map(() => '?').join(', ')})`);
      params.push(...q.deviceIds);
    }
    if (q.types !== undefined) {
      if (q.types.length === 0) return [];
      where.push(`type IN (${q.types.map(() => '?').join(', ')})`);
      params.push(...q.types);
    }
    params.push(q.limit ?? 100_000);
    const sql = `SELECT device_id, kind, district, type, ts, data, received_at FROM device_events WHERE ${where.join(' AND ')} ORDER BY ts, device_id, type LIMIT ?`;
    const rows = this.db.prepare(sql).all(...params) as Array<{
      device_id: string;
      kind: string;
      district: string;
      type: string;
      ts: number;
      data: string | null;
      received_at: number;
    }>;
    return rows.map((r) => ({
      deviceId: r.device_id,
      kind: r.kind,
      district: r.district,
      type: r.type,
      ts: r.ts,
      data: r.data === null ? null : (JSON.parse(r.data) as EventEntry['data']),
      receivedAt: r.received_at,
    }));
  }

  /**
   * Retention: deletes log rows received more than `retentionDays` ago AND already materialized, and old
   * events_log rows (device_events keeps events for good). Small rowid-range chunks, yielding between them,
   * so the hot path never waits behind one long delete.
   */
  async prune(now: number, retentionDays: number): Promise<number> {
    const cutoff = now - retentionDays * DAY_MS;
    let removed = 0;
    for (const table of ['log', 'events_log'] as const) {
      const head = this.db.prepare(`SELECT min(seq) FROM ${table}`).pluck();
      // A message row goes only once ALL its values are materialized.
      const del = this.db.prepare(
        table === 'log'
          ? 'DELETE FROM log WHERE seq BETWEEN ? AND ? AND received_at < ? AND seq + n - 1 <= ?'
          : 'DELETE FROM events_log WHERE seq BETWEEN ? AND ? AND received_at < ?',
      );
      for (;;) {
        if (this.closed) return removed;
        const start = head.get() as number | null;
        if (start === null) break;
        let end = start + PRUNE_CHUNK_ROWS - 1;
        if (table === 'log') end = Math.min(end, this.materialized);
        if (end < start) break;
        const n = (
          table === 'log' ? del.run(start, end, cutoff, this.materialized) : del.run(start, end, cutoff)
        ).changes;
        removed += n;
        if (n === 0) break;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    return removed;
  }

  /** Commits what is queued and closes the file. Later appends are refused. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.db.close();
  }
}

function noop(): void {}

/** A value as the log stores it: [metric, ts, value]. */
type EncodedValue = [string, number, number];

function encodeValues(values: readonly NormalizedValue[]): string {
  const out: EncodedValue[] = new Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    out[i] = [v.metric, v.ts, v.value];
  }
  return JSON.stringify(out);
}
