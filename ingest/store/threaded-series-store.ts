import { Worker } from 'node:worker_threads';
import { type Clock, systemClock } from '../../core/clock.ts';
import { CityError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { type PackedPoints, packedLength, packPoints } from '../../core/packed-points.ts';
import type {
  Bucket,
  DeviceAggregateQuery,
  LatestValue,
  SeriesPoint,
  SeriesQuery,
  SeriesStore,
  StoreHealth,
  WriteOutcome,
} from '../../core/ports/series-store.ts';
import type { ScopeName } from './series-registry.ts';
import {
  embeddedStoreHealth,
  type SeriesRef,
  SqliteSeriesStore,
  type SqliteSeriesStoreOptions,
} from './sqlite-series-store.ts';
import type {
  WireError,
  WriterCommand,
  WriterReply,
  WriterRequest,
  WriterThreadInit,
} from './writer-thread-protocol.ts';

// Run as TypeScript (tsx, vitest) the thread starts through a bootstrap that registers tsx, which a worker
// does not inherit; compiled (npm run build) this file is .js and its sibling thread file is compiled too.
const THREAD_ENTRY = import.meta.url.endsWith('.ts')
  ? new URL('./series-writer-thread.mjs', import.meta.url)
  : new URL('./series-writer-thread.js', import.meta.url);

interface Waiter {
  resolve: (reply: WriterReply) => void;
  reject: (err: CityError) => void;
}

/**
 * The embedded SQLite series store with its writes on a worker thread.
 *
 * better-sqlite3 is synchronous: on the main thread a batch write holds the event loop for its whole
 * transaction (tens of ms for thousands of points and their roll-ups), and MQTT reads, PUBACKs and the API
 * wait behind it. Here the writer thread owns a second connection to the same file and does every write
 * and prune; the main thread only packs the batch (well under 1 ms per 5 000 points) and keeps reading
 * through its own connection, which in WAL mode never waits for the writer.
 *
 * Same contract and file as SqliteSeriesStore (the contract suite runs on both). What is read right after
 * a write() resolves includes that write: the writer commits before it replies. The reading connection's
 * series mirror is reloaded when a reply says series were created or moved.
 *
 * A writer thread that dies fails what it had in hand with INGEST_STORE_UNAVAILABLE (the materializer
 * retries from the durable log); the next call starts a new one.
 */
export class ThreadedSqliteSeriesStore implements SeriesStore {
  readonly name = 'sqlite';
  /**
   * Off the event loop, a batch costs the main thread only its packing, and larger ones cost the writer
   * less per value (roll-up rows are merged once per batch): 20 000 values, about 4 s of one device's
   * data at the benchmark's top rate.
   */
  readonly preferredBatchValues = 20_000;
  private worker: Worker | null = null;
  private readonly waiting = new Map<number, Waiter>();
  private nextId = 1;
  private closed = false;
  private writeFailures = 0;
  private lastFailure: string | undefined;

  private constructor(
    private readonly reader: SqliteSeriesStore,
    private readonly init: WriterThreadInit,
    private readonly log: Logger,
    private readonly clock: Clock,
    private readonly onExpired: ((count: number) => void) | undefined,
  ) {}

  /**
   * Opens the file on this thread first (creating it, or refusing a damaged one with STORE_CORRUPT), then
   * starts the writer thread and waits until it has opened it too.
   */
  static async open(opts: SqliteSeriesStoreOptions): Promise<ThreadedSqliteSeriesStore> {
    const reader = SqliteSeriesStore.open(opts);
    const store = new ThreadedSqliteSeriesStore(
      reader,
      { file: opts.file, timeZone: opts.calendar.zone, retention: opts.retention },
      opts.logger.child({ component: 'series-store', store: 'sqlite', writer: 'thread' }),
      opts.clock ?? systemClock,
      opts.onExpired,
    );
    try {
      await store.started();
    } catch (err) {
      await reader.close();
      throw err;
    }
    return store;
  }

  write(points: readonly SeriesPoint[]): Promise<WriteOutcome> {
    const { packed, transfer } = packPoints(points);
    // A fresh pack belongs to this call alone: its buffers move to the thread instead of being copied.
    return this.send(packed, transfer);
  }

  /**
   * write() for points already packed (the materializer keeps committed values packed: thousands of
   * objects waiting for the store would each survive young-generation collections). The arrays are
   * copied, not moved, so the caller can retry the same batch.
   */
  writePacked(packed: PackedPoints): Promise<WriteOutcome> {
    return this.send(packed, []);
  }

  private async send(packed: PackedPoints, transfer: ArrayBuffer[]): Promise<WriteOutcome> {
    this.assertOpen();
    if (packedLength(packed) === 0) return { inserted: 0, duplicates: 0, revisions: [] };
    let reply: WriterReply;
    try {
      reply = await this.request({ op: 'write', points: packed, now: this.clock.now() }, transfer);
    } catch (err) {
      this.writeFailures++;
      this.lastFailure = (err as Error).message;
      throw err;
    }
    if (reply.op !== 'written') throw unexpected(reply);
    if (reply.seriesChanged) this.reader.reloadSeries();
    if (reply.expired > 0) {
      this.onExpired?.(reply.expired);
      this.log.warn(
        { expired: reply.expired, rawHorizon: reply.rawHorizon },
        'points older than raw retention not stored',
      );
    }
    return reply.outcome;
  }

  query(q: SeriesQuery): Promise<Bucket[]> {
    return this.reader.query(q);
  }

  aggregate(q: Omit<SeriesQuery, 'step'>): Promise<Bucket | null> {
    return this.reader.aggregate(q);
  }

  aggregateByDevice(q: DeviceAggregateQuery): Promise<Map<string, Bucket>> {
    return this.reader.aggregateByDevice(q);
  }

  latest(deviceId: string): Promise<LatestValue[]> {
    return this.reader.latest(deviceId);
  }

  listSeries(filter: { scope?: ScopeName; metric?: string; key?: string } = {}): SeriesRef[] {
    return this.reader.listSeries(filter);
  }

  async prune(now: number): Promise<number> {
    this.assertOpen();
    const reply = await this.request({ op: 'prune', now });
    if (reply.op !== 'pruned') throw unexpected(reply);
    this.log.info({ removed: reply.removed, horizons: reply.horizons }, 'series store pruned');
    return reply.removed;
  }

  health(): StoreHealth {
    return embeddedStoreHealth(this.closed, this.writeFailures, this.lastFailure);
  }

  /** Lets the write in hand finish, closes the writer's connection, then this thread's. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const worker = this.worker;
    if (worker !== null) {
      try {
        await this.request({ op: 'close' }, [], true);
      } catch (err) {
        this.log.warn({ err }, 'series writer thread did not close cleanly');
      }
      await worker.terminate();
      this.worker = null;
    }
    await this.reader.close();
  }

  private started(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.spawn((err) => (err === null ? resolve() : reject(err)));
    });
  }

  /** Starts a writer thread; `onReady` hears once whether it opened the file. */
  private spawn(onReady?: (err: CityError | null) => void): Worker {
    const worker = new Worker(THREAD_ENTRY, { workerData: this.init });
    // The platform closes the store on shutdown; a forgotten one must not keep a process alive.
    worker.unref();
    let ready = false;
    let gone = false;
    worker.on('message', (reply: WriterReply) => {
      if (reply.op === 'ready') {
        ready = true;
        onReady?.(null);
        return;
      }
      if (reply.op === 'fatal') {
        onReady?.(fromWire(reply.error));
        return;
      }
      const waiter = this.waiting.get(reply.id);
      if (waiter === undefined) return;
      this.waiting.delete(reply.id);
      if (reply.op === 'failed') waiter.reject(fromWire(reply.error));
      else waiter.resolve(reply);
    });
    const lost = (why: string): void => {
      if (gone) return; // 'error' is followed by 'exit'
      gone = true;
      if (this.worker === worker) this.worker = null;
      const err = new CityError('INGEST_STORE_UNAVAILABLE', `series writer thread ${why}`);
      if (!ready) onReady?.(err);
      ready = true; // report once
      if (!this.closed) this.log.error({ why }, 'series writer thread lost; the next write starts a new one');
      const waiters = [...this.waiting.values()];
      this.waiting.clear();
      for (const w of waiters) w.reject(err);
    };
    worker.on('error', (err) => lost(`failed: ${err.message}`));
    worker.on('exit', (code) => lost(`exited with code ${code}`));
    this.worker = worker;
    return worker;
  }

  private request(req: WriterCommand, transfer: ArrayBuffer[] = [], closing = false): Promise<WriterReply> {
    if (this.closed && !closing)
      return Promise.reject(new CityError('INGEST_SHUTTING_DOWN', 'series store is closed'));
    const worker = this.worker ?? this.spawn();
    const id = this.nextId++;
    return new Promise<WriterReply>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      const message: WriterRequest = { ...req, id };
      worker.postMessage(message, transfer);
    });
  }

  private assertOpen(): void {
    if (this.closed) throw new CityError('INGEST_SHUTTING_DOWN', 'series store is closed');
  }
}

function fromWire(e: WireError): CityError {
  if (e.code === null) return new CityError('INGEST_STORE_UNAVAILABLE', `series store: ${e.message}`);
  return new CityError(e.code, e.message, {
    ...(e.field !== undefined ? { field: e.field } : {}),
    ...(e.details !== undefined ? { details: e.details } : {}),
  });
}

function unexpected(reply: WriterReply): CityError {
  return new CityError('INGEST_STORE_UNAVAILABLE', `series writer thread answered ${reply.op}`);
}
