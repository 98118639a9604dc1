import type { EventEmitter } from 'node:events';
import {
  AckPolicy,
  type ConsumerConfig,
  type ConsumerMessages,
  DeliverPolicy,
  Events,
  type JetStreamManager,
  type NatsConnection,
  nanos,
} from 'nats';
import { CityError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { PlatformEvents } from '../../core/platform-events.ts';
import type { SeriesStore, WriteOutcome } from '../../core/ports/series-store.ts';
import type { Telemetry } from '../../core/telemetry.ts';
import { decodeReadingsMessage, isNewerFormat, readingsSubject } from './log-message.ts';
import type { JetStreamLogOptions } from './log-options.ts';
import { JS_CONSUMER_NOT_FOUND, jsErrorCode, logUnavailable } from './nats-errors.ts';
import { ensureReadingsStream } from './readings-stream.ts';
import { type LaneOptions, nak, term, WriterLane } from './writer-lane.ts';

/** How long a message of a newer format waits before it is offered again (a newer writer may take it). */
const NEWER_FORMAT_RETRY_MS = 30_000;

export interface JetStreamWriterDeps {
  /** An open connection; the writer never closes it (its owner does, after `close()`). */
  nc: NatsConnection;
  /** The shared series store; the writer does not close it either. */
  store: SeriesStore;
  logger: Logger;
  telemetry?: Pick<Telemetry, 'valuesStored' | 'storeWriteFailures'>;
  /** Where revisions are announced ('readings-revised'), when something in this process listens. */
  events?: PlatformEvents;
}

export interface JetStreamWriterOptions extends Partial<LaneOptions> {
  log: Readonly<JetStreamLogOptions>;
  /**
   * Durable consumer name (one per shard: `<consumer>-<shard>`). Writers given the same name share each
   * shard's consumer and split its messages; a writer with another name reads every message again.
   */
  consumer?: string;
  /** Shards this writer reads; all by default. Disjoint sets keep each device's writes in one writer. */
  shards?: readonly number[];
  /** Messages of one shard delivered and not yet acknowledged, across its writers: the in-flight bound. */
  maxAckPending?: number;
  /** A message not acknowledged within this is redelivered (a writer that died holding it) (ms). */
  ackWaitMs?: number;
  /**
   * How long one pull request stays open (ms, at least 1000). The client notices a lost consumer leader by
   * missed heartbeats, sent every half of it: shorter finds the new leader sooner, at a few more requests.
   */
  pullExpiresMs?: number;
  /** How long `close()` waits for the batches in hand to reach the store (ms). */
  closeTimeoutMs?: number;
}

export interface JetStreamWriterHealth {
  ok: boolean;
  /** What the writer is waiting for before it can make progress, null when nothing. */
  waitingFor: 'start' | 'jetstream' | 'store' | null;
  detail?: string;
  shards: number;
  /** Messages in hand, not yet written. */
  buffered: number;
  stored: { messages: number; inserted: number; duplicates: number; revisions: number };
  writeFailures: number;
  /** Messages this version cannot read, terminated (never redelivered) and logged. */
  unreadable: number;
  /** Messages of a newer release's format, handed back for a writer of that release (redelivered later). */
  newerFormat: number;
}

const DEFAULTS = {
  consumer: 'citymetrics-writer',
  batchMaxValues: 5_000,
  batchMaxMessages: 500,
  batchMaxWaitMs: 50,
  retryDelayMs: 1_000,
  maxAckPending: 2_000,
  ackWaitMs: 30_000,
  pullExpiresMs: 10_000,
  closeTimeoutMs: 10_000,
};

/** Ensures the durable pull consumer of one shard; an existing one is updated to these bounds. */
export async function ensureConsumer(jsm: JetStreamManager, stream: string, config: Partial<ConsumerConfig>) {
  const name = config.durable_name ?? '';
  try {
    const info = await jsm.consumers.info(stream, name);
    if (info.config.filter_subject !== config.filter_subject)
      throw new CityError(
        'INGEST_LOG_MISCONFIGURED',
        `consumer ${name} of stream ${stream} reads ${info.config.filter_subject}, expected ` +
          `${config.filter_subject}: delete it (nats consumer rm ${stream} ${name}) or choose another consumer name`,
      );
    if (info.config.max_ack_pending !== config.max_ack_pending || info.config.ack_wait !== config.ack_wait)
      await jsm.consumers.update(stream, name, {
        max_ack_pending: config.max_ack_pending ?? -1,
        ack_wait: config.ack_wait ?? nanos(DEFAULTS.ackWaitMs),
      });
  } catch (err) {
    if (err instanceof CityError) throw err;
    if (jsErrorCode(err) !== JS_CONSUMER_NOT_FOUND) throw logUnavailable(err, `consumer ${name}: info`);
    try {
      // Several writers may start together: creating an identical durable consumer twice is accepted.
      await jsm.consumers.add(stream, config);
    } catch (addErr) {
      throw logUnavailable(addErr, `consumer ${name}: create`);
    }
  }
}

/**
 * The writer node's loop: per shard a durable pull consumer, messages batched (size or time) into one
 * series-store write, each acknowledged only once that write resolved. A store failure naks the batch with
 * a delay, so nothing is lost; a redelivered message that was already stored (its ack was lost with a
 * writer) is a duplicate by identity in the store, never a second point. JetStream's max_ack_pending bounds
 * what is in flight per shard; a slow store slows the acknowledgements, and the edges' publishes are
 * bounded by the stream's limits instead of by memory.
 */
export class JetStreamWriter {
  private readonly logger: Logger;
  private readonly opts: typeof DEFAULTS & JetStreamWriterOptions;
  private readonly shards: readonly number[];
  private readonly lanes = new Map<number, WriterLane>();
  private readonly subscriptions: ConsumerMessages[] = [];
  private readonly loops: Promise<void>[] = [];
  private started = false;
  private stopping = false;
  private connected = true;
  private lastFailure: string | null = null;
  private readonly stored = { messages: 0, inserted: 0, duplicates: 0, revisions: 0 };
  private writeFailures = 0;
  private unreadable = 0;
  private newerFormat = 0;

  constructor(
    private readonly deps: JetStreamWriterDeps,
    options: JetStreamWriterOptions,
  ) {
    this.opts = { ...DEFAULTS, ...options };
    this.logger = deps.logger.child({ component: 'ingest-writer', consumer: this.opts.consumer });
    const all = Array.from({ length: options.log.shards }, (_, i) => i);
    this.shards = options.shards ?? all;
    const bad = this.shards.filter((s) => !Number.isInteger(s) || s < 0 || s >= options.log.shards);
    if (bad.length > 0)
      throw new CityError(
        'CONFIG_INVALID',
        `writer shards ${bad.join(', ')} are not in 0..${options.log.shards - 1}`,
      );
  }

  /** Checks (or creates) the stream, ensures each shard's consumer and starts consuming. */
  async start(): Promise<void> {
    const { nc } = this.deps;
    const { log } = this.opts;
    let jsm: JetStreamManager;
    try {
      jsm = await nc.jetstreamManager();
    } catch (err) {
      throw logUnavailable(err, 'JetStream');
    }
    await ensureReadingsStream(jsm, log);
    const js = nc.jetstream();
    void this.watchConnection();
    for (const shard of this.shards) {
      const name = `${this.opts.consumer}-${shard}`;
      await ensureConsumer(jsm, log.stream, {
        durable_name: name,
        description: `citymetrics series writer, shard ${shard}`,
        filter_subject: readingsSubject(log, shard),
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: nanos(this.opts.ackWaitMs),
        max_ack_pending: this.opts.maxAckPending,
        max_deliver: -1,
      });
      const consumer = await js.consumers.get(log.stream, name);
      const messages = await consumer.consume({
        max_messages: Math.min(this.opts.batchMaxMessages, this.opts.maxAckPending),
        expires: this.opts.pullExpiresMs,
      });
      const lane = new WriterLane(this.opts, {
        write: (points) => this.deps.store.write(points),
        onWritten: (outcome, n, latencyMs) => this.onWritten(outcome, n, latencyMs),
        onFailed: (err, n) => this.onFailed(err, n, shard),
      });
      this.lanes.set(shard, lane);
      this.subscriptions.push(messages);
      this.loops.push(this.run(shard, lane, messages));
    }
    this.started = true;
  }

  private async run(shard: number, lane: WriterLane, messages: ConsumerMessages): Promise<void> {
    try {
      for await (const m of messages) {
        // Closing: what was already delivered goes back at once, for another writer to take.
        if (this.stopping) {
          nak(m);
          continue;
        }
        const points = decodeReadingsMessage(m.data);
        if (points === null && isNewerFormat(m.data)) {
          // Acknowledged by an edge of a newer release: a writer of that release stores it. Terminating it
          // here would lose an acknowledged reading, so it goes back, later, for as long as it takes.
          this.newerFormat++;
          if (this.newerFormat === 1 || this.newerFormat % 1_000 === 0)
            this.logger.warn(
              { shard, seq: m.seq, count: this.newerFormat },
              'a message of a newer citymetrics release on the log: upgrade the writers (they go first)',
            );
          nak(m, NEWER_FORMAT_RETRY_MS);
          continue;
        }
        if (points === null) {
          // Redelivering it can never help: it is logged and taken out of the stream's delivery.
          this.unreadable++;
          this.logger.error({ shard, seq: m.seq, subject: m.subject }, 'unreadable message on the log');
          term(m);
          continue;
        }
        await lane.add(m, points);
      }
    } catch (err) {
      this.logger.error({ err, shard }, 'consuming the log stopped');
    }
  }

  private async watchConnection(): Promise<void> {
    for await (const s of this.deps.nc.status()) {
      if (s.type === Events.Disconnect) this.connected = false;
      else if (s.type === Events.Reconnect) this.connected = true;
    }
  }

  private onWritten(outcome: WriteOutcome, messages: number, latencyMs: number): void {
    this.lastFailure = null;
    const revisions = outcome.revisions.length;
    this.stored.messages += messages;
    this.stored.inserted += outcome.inserted;
    this.stored.duplicates += outcome.duplicates;
    this.stored.revisions += revisions;
    const stored = this.deps.telemetry?.valuesStored;
    if (outcome.inserted > 0) stored?.inc({ outcome: 'inserted' }, outcome.inserted);
    if (outcome.duplicates > 0) stored?.inc({ outcome: 'duplicate' }, outcome.duplicates);
    if (revisions > 0) {
      stored?.inc({ outcome: 'revision' }, revisions);
      this.emitRevised(outcome);
    }
    this.logger.debug({ messages, latencyMs }, 'batch stored');
  }

  private onFailed(err: unknown, messages: number, shard: number): void {
    this.writeFailures++;
    this.lastFailure = err instanceof Error ? err.message : String(err);
    this.deps.telemetry?.storeWriteFailures.inc();
    this.logger.warn({ err, shard, messages }, 'store write failed; batch handed back for redelivery');
  }

  private emitRevised(outcome: WriteOutcome): void {
    try {
      (this.deps.events as EventEmitter | undefined)?.emit('readings-revised', {
        revisions: outcome.revisions,
        at: Date.now(),
      });
    } catch (err) {
      this.logger.error({ err }, 'platform event listener threw');
    }
  }

  health(): JetStreamWriterHealth {
    const store = this.deps.store.health();
    let waitingFor: JetStreamWriterHealth['waitingFor'] = null;
    let detail: string | undefined;
    if (!this.started) {
      waitingFor = 'start';
      detail = 'consumers not started';
    } else if (!this.connected || this.deps.nc.isClosed()) {
      waitingFor = 'jetstream';
      detail = 'not connected to NATS';
    } else if (this.lastFailure !== null || !store.ok) {
      waitingFor = 'store';
      detail = this.lastFailure ?? store.detail ?? 'store not ok';
    }
    let buffered = 0;
    for (const lane of this.lanes.values()) buffered += lane.buffered;
    return {
      ok: waitingFor === null,
      waitingFor,
      ...(detail !== undefined ? { detail } : {}),
      shards: this.shards.length,
      buffered,
      stored: { ...this.stored },
      writeFailures: this.writeFailures,
      unreadable: this.unreadable,
      newerFormat: this.newerFormat,
    };
  }

  /**
   * Stops taking messages, writes the batches in hand (bounded by closeTimeoutMs) and acknowledges them;
   * whatever could not be written is nakked, so another writer takes it at once. Returns how many messages
   * were handed back that way.
   */
  async close(): Promise<{ handedBack: number }> {
    if (this.stopping) return { handedBack: 0 };
    this.stopping = true;
    await Promise.allSettled(this.subscriptions.map((m) => m.close()));
    const lanes = [...this.lanes.values()];
    const drained = Promise.allSettled([...this.loops, ...lanes.map((l) => l.flush())]);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.opts.closeTimeoutMs);
    });
    const result = await Promise.race([drained, timedOut]);
    clearTimeout(timer);
    let handedBack = 0;
    for (const lane of lanes) handedBack += lane.release();
    if (result === 'timeout')
      this.logger.warn({ handedBack }, 'writer closed before its batches were stored');
    return { handedBack };
  }
}

/** Builds the writer on an open connection and store; opens nothing until `start()`. */
export const buildJetStreamWriter = (deps: JetStreamWriterDeps, options: JetStreamWriterOptions) =>
  new JetStreamWriter(deps, options);
