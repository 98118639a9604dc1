import { performance } from 'node:perf_hooks';
import type { Clock, ClockTimer } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import {
  concatPacked,
  type PackedPoints,
  packPoints,
  slicePacked,
  unpackPoints,
} from '../core/packed-points.ts';
import type { SeriesStore, WriteOutcome } from '../core/ports/series-store.ts';
import type { CommittedBatch, DurableLog } from './durable-log.ts';

export interface RetryPolicy {
  /** First back-off delay (ms); doubles per failure, with jitter. */
  baseMs: number;
  /** Longest back-off delay (ms). */
  maxMs: number;
}

export interface MaterializerOptions {
  log: Pick<DurableLog, 'readFrom' | 'setMaterializedSeq' | 'committedSeq' | 'materializedSeq'>;
  store: Pick<SeriesStore, 'write' | 'writePacked'>;
  logger: Logger;
  /** Times the back-off of failed writes. */
  clock: Pick<Clock, 'setTimeout'>;
  /** Past this backlog (values), `whenBelowLimit()` waits: the backpressure that reaches the PUBACK. */
  maxBacklogValues: number;
  /** Committed values kept in memory for the store; past it the copy is dropped and re-read from the log. */
  maxInMemoryValues: number;
  /** Values per store write at most. Default 5 000. */
  batchMaxValues?: number;
  /**
   * Aimed duration of one store write (ms). A synchronous store (SQLite) holds the event loop for the whole
   * write, acknowledgements included: the batch is cut to what the last writes say fits in this time (never
   * under 250 values). Default 40.
   */
  batchTargetMs?: number;
  retry?: RetryPolicy;
  /** The back-off's jitter, uniform in [0, 1). Default Math.random; a test fixes it to know each delay. */
  random?: () => number;
  /** After each store write: its outcome, the values written (packed, for per-device counts) and how long it took. */
  onWritten?: (outcome: WriteOutcome, packed: PackedPoints, latencyMs: number) => void;
  onFailure?: (err: unknown) => void;
  onBacklog?: (backlog: number) => void;
}

interface Batch {
  packed: PackedPoints;
  size: number;
  upto: number;
}

const DEFAULT_RETRY: RetryPolicy = { baseMs: 100, maxMs: 10_000 };
const REPLAY_PROGRESS_VALUES = 100_000;

/**
 * Moves committed values from the durable log into the series store. Committed values arrive in memory
 * (no re-read) and are written in batches, ONE write in flight; what commits meanwhile coalesces into the
 * next batch. `materialized_seq` advances only after the store has a batch, so after a crash the log is
 * replayed from there (idempotent: the store dedupes identities).
 *
 * Memory is bounded: when the in-memory copy exceeds `maxInMemoryValues` it is dropped and the gap is read
 * back from the log by seq. A failing store is retried with exponential back-off and jitter; its data is
 * never dropped, it waits in the log, and the growing backlog slows acknowledgements upstream.
 */
export class Materializer {
  private readonly opts: MaterializerOptions;
  private readonly retry: RetryPolicy;
  private readonly batchMax: number;
  private readonly batchTargetMs: number;
  private readonly random: () => number;
  /** moving estimate of a store write's cost per value (ms), from the writes so far */
  private msPerValue = 0;
  private pumpScheduled = false;
  /** Committed values not yet in the store, packed: waiting values are a few arrays, not objects. */
  private memory: CommittedBatch[] = [];
  private memoryValues = 0;
  private inFlight: Promise<void> | null = null;
  private failedBatch: Batch | null = null;
  private failures = 0;
  private retryTimer: ClockTimer | null = null;
  private paused = false;
  private stopped = false;
  private belowWaiters: Array<() => void> = [];
  private idleWaiters: Array<() => void> = [];
  private replayUntil = 0;
  private replayLoggedAt = 0;

  constructor(opts: MaterializerOptions) {
    this.opts = opts;
    this.retry = opts.retry ?? DEFAULT_RETRY;
    this.batchMax = opts.batchMaxValues ?? 5_000;
    this.batchTargetMs = opts.batchTargetMs ?? 40;
    this.random = opts.random ?? Math.random;
  }

  /** Values the next write may take: batchMax, or fewer when the last writes were slow per value. */
  private get batchLimit(): number {
    if (this.msPerValue <= 0) return this.batchMax;
    const fits = Math.floor(this.batchTargetMs / this.msPerValue);
    return Math.max(Math.min(250, this.batchMax), Math.min(this.batchMax, fits));
  }

  /** Values committed to the log but not yet in the store. */
  get backlog(): number {
    return this.opts.log.committedSeq - this.opts.log.materializedSeq;
  }

  /** Starts writing; replays what the log holds beyond materialized_seq (recovery after a crash). */
  start(): void {
    const backlog = this.backlog;
    if (backlog > 0) {
      this.replayUntil = this.opts.log.committedSeq;
      this.opts.logger.info(
        { from: this.opts.log.materializedSeq + 1, to: this.replayUntil, values: backlog },
        'replaying the durable log into the series store',
      );
    }
    this.opts.onBacklog?.(backlog);
    this.pump();
  }

  /** Feed from the log: values just committed. */
  readonly accept = (batch: CommittedBatch): void => {
    if (this.stopped) return;
    this.memory.push(batch);
    this.memoryValues += batch.size;
    if (this.memoryValues > this.opts.maxInMemoryValues) {
      // Keep memory bounded: the values are safe in the log and will be read back by seq.
      this.opts.logger.warn(
        { dropped: this.memoryValues, backlog: this.backlog },
        'store is behind: dropping the in-memory copy, re-reading from the log',
      );
      this.memory = [];
      this.memoryValues = 0;
    }
    this.opts.onBacklog?.(this.backlog);
    this.pump();
  };

  /** Resolves when the backlog is at or below the limit (or the materializer stops). */
  whenBelowLimit(): Promise<void> {
    if (this.backlog <= this.opts.maxBacklogValues || this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.belowWaiters.push(resolve));
  }

  /** Resolves when everything committed is in the store (or the materializer stops). */
  idle(): Promise<void> {
    if (this.backlog === 0 || this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Lets every submit waiting on the backlog go on (shutdown: they are then refused, not stuck). */
  releaseBackpressure(): void {
    const waiters = this.belowWaiters;
    this.belowWaiters = [];
    for (const w of waiters) w();
  }

  /** Holds store writes (maintenance, tests); committed values keep accumulating in the backlog. */
  pause(): void {
    this.paused = true;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  resume(): void {
    this.paused = false;
    this.pump();
  }

  /** Stops writing after the write in flight settles; waiters are released. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.retryTimer?.cancel();
    this.retryTimer = null;
    this.release(true);
    await this.inFlight;
  }

  private pump(): void {
    if (this.inFlight !== null || this.paused || this.stopped || this.retryTimer !== null) return;
    this.release(false);
    const batch = this.failedBatch ?? this.nextBatch();
    if (batch === null) return;
    this.failedBatch = null;
    const started = performance.now();
    const { store } = this.opts;
    const writing =
      store.writePacked !== undefined
        ? store.writePacked(batch.packed)
        : store.write(unpackPoints(batch.packed));
    // What write() spent before returning its promise held the event loop (all of it for SQLite): that,
    // not the wait for a remote store, is what the batch limit keeps under batchTargetMs.
    const blockedMs = performance.now() - started;
    this.inFlight = writing
      .then(
        (outcome) => this.written(batch, outcome, performance.now() - started, blockedMs),
        (err: unknown) => this.failed(batch, err),
      )
      .catch(this.onInternalError);
  }

  private nextBatch(): Batch | null {
    const from = this.opts.log.materializedSeq + 1;
    if (from > this.opts.log.committedSeq) return null;
    while (this.memory.length > 0 && this.memory[0]!.lastSeq < from) {
      this.memoryValues -= this.memory.shift()!.size;
    }
    const head = this.memory[0];
    if (head === undefined || head.firstSeq > from) {
      // A gap (recovery, or a dropped in-memory copy): read it from the log, up to where memory starts.
      const max = this.batchLimit;
      const limit = head === undefined ? max : Math.min(max, head.firstSeq - from);
      const read = this.opts.log.readFrom(from, limit);
      const size = read.points.length;
      return size === 0 ? null : { packed: packPoints(read.points).packed, size, upto: read.lastSeq };
    }
    const max = this.batchLimit;
    const skip = from - head.firstSeq; // > 0 when part of the head was written by a batch cut short
    if (head.size - skip > max) {
      // The head alone exceeds the limit: write part of it, the rest stays at the head of memory.
      return { packed: slicePacked(head.packed, skip, skip + max), size: max, upto: from + max - 1 };
    }
    const parts = [skip > 0 ? slicePacked(head.packed, skip, head.size) : head.packed];
    let n = head.size - skip;
    let upto = head.lastSeq;
    this.memory.shift();
    this.memoryValues -= head.size;
    // Coalesce what committed while the previous write ran, as long as seqs stay contiguous and it fits.
    while (
      this.memory.length > 0 &&
      n + this.memory[0]!.size <= max &&
      this.memory[0]!.firstSeq === upto + 1
    ) {
      const next = this.memory.shift()!;
      this.memoryValues -= next.size;
      parts.push(next.packed);
      n += next.size;
      upto = next.lastSeq;
    }
    return { packed: concatPacked(parts), size: n, upto };
  }

  private written(batch: Batch, outcome: WriteOutcome, latencyMs: number, blockedMs: number): void {
    this.inFlight = null;
    this.failures = 0;
    this.opts.log.setMaterializedSeq(batch.upto);
    const perValue = blockedMs / Math.max(1, batch.size);
    this.msPerValue = this.msPerValue === 0 ? perValue : this.msPerValue * 0.7 + perValue * 0.3;
    this.opts.onWritten?.(outcome, batch.packed, latencyMs);
    this.opts.onBacklog?.(this.backlog);
    this.logReplay(batch.upto);
    this.release(false);
    // The next write waits for a turn of the event loop: back-to-back synchronous writes chained through
    // promise callbacks would starve socket reads and acknowledgements for as long as a backlog lasts.
    if (!this.pumpScheduled) {
      this.pumpScheduled = true;
      setImmediate(this.scheduledPump);
    }
  }

  private readonly scheduledPump = (): void => {
    this.pumpScheduled = false;
    this.pump();
  };

  private failed(batch: Batch, err: unknown): void {
    this.inFlight = null;
    this.failures++;
    this.failedBatch = batch;
    this.opts.onFailure?.(err);
    if (this.stopped) return;
    const ceiling = Math.min(this.retry.maxMs, this.retry.baseMs * 2 ** (this.failures - 1));
    const delay = ceiling / 2 + this.random() * (ceiling / 2);
    this.opts.logger.warn(
      { err, failures: this.failures, retryInMs: Math.round(delay), backlog: this.backlog },
      'series store write failed',
    );
    this.retryTimer = this.opts.clock.setTimeout(this.onRetry, delay);
  }

  // A throwing listener or a closed log must not become an unhandled rejection on the ingest path.
  private readonly onInternalError = (err: unknown): void => {
    this.inFlight = null;
    this.opts.logger.error({ err }, 'materializer bookkeeping failed');
    if (!this.stopped && this.retryTimer === null)
      this.retryTimer = this.opts.clock.setTimeout(this.onRetry, this.retry.maxMs);
  };

  private readonly onRetry = (): void => {
    this.retryTimer = null;
    this.pump();
  };

  private logReplay(upto: number): void {
    if (this.replayUntil === 0) return;
    if (upto >= this.replayUntil) {
      this.opts.logger.info({ upto }, 'durable log replay done');
      this.replayUntil = 0;
    } else if (upto - this.replayLoggedAt >= REPLAY_PROGRESS_VALUES) {
      this.replayLoggedAt = upto;
      this.opts.logger.info({ upto, remaining: this.replayUntil - upto }, 'durable log replay progress');
    }
  }

  private release(all: boolean): void {
    const backlog = this.backlog;
    if (this.belowWaiters.length > 0 && (all || backlog <= this.opts.maxBacklogValues)) {
      const waiters = this.belowWaiters;
      this.belowWaiters = [];
      for (const w of waiters) w();
    }
    if (this.idleWaiters.length > 0 && (all || backlog === 0)) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }
}
