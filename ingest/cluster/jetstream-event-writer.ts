import {
  AckPolicy,
  type ConsumerMessages,
  DeliverPolicy,
  type JsMsg,
  type NatsConnection,
  nanos,
} from 'nats';
import type { Logger } from '../../core/logger.ts';
import type { DeviceEventRecord } from '../durable-log.ts';
import { ensureConsumer } from './jetstream-writer.ts';
import { decodeEventMessage, isNewerFormat } from './log-message.ts';
import type { JetStreamLogOptions } from './log-options.ts';
import { logUnavailable } from './nats-errors.ts';
import type { PostgresDeviceEvents } from './postgres-device-events.ts';
import { ack, nak, term } from './writer-lane.ts';

export interface EventWriterOptions {
  log: Readonly<JetStreamLogOptions>;
  /** Durable consumer of every events shard; writers given the same name share it. */
  consumer: string;
  /** Events per insert at most. Default 500. */
  batchMax?: number;
  /** How long the first event of a batch waits for others (ms). Default 50. */
  batchWaitMs?: number;
  /** After a failed insert, how long the events wait before JetStream redelivers them (ms). Default 1 000. */
  retryDelayMs?: number;
}

/**
 * The writer's second consumer: device events from the log into PostgreSQL (postgres-device-events.ts),
 * each acknowledged once its insert committed. A failed insert naks the batch with a delay; a redelivered
 * event that was stored already is the same row by identity (device, type, ts).
 */
export class JetStreamEventWriter {
  private messages: ConsumerMessages | null = null;
  private loop: Promise<void> | null = null;
  private batch: Array<{ m: JsMsg; event: DeviceEventRecord }> = [];
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();
  private readonly log: Logger;
  readonly stats = { stored: 0, duplicates: 0, failures: 0, unreadable: 0, newerFormat: 0 };

  constructor(
    private readonly deps: { nc: NatsConnection; events: PostgresDeviceEvents; logger: Logger },
    private readonly options: EventWriterOptions,
  ) {
    this.log = deps.logger.child({ component: 'event-writer' });
  }

  async start(): Promise<void> {
    const { nc } = this.deps;
    const { log, consumer } = this.options;
    try {
      const jsm = await nc.jetstreamManager();
      await ensureConsumer(jsm, log.stream, {
        durable_name: consumer,
        description: 'citymetrics device events writer',
        filter_subject: `${log.subjectPrefix}.events.*`,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: nanos(30_000),
        max_ack_pending: 1_000,
        max_deliver: -1,
      });
      const c = await nc.jetstream().consumers.get(log.stream, consumer);
      this.messages = await c.consume({ max_messages: 500, expires: 10_000 });
    } catch (err) {
      throw logUnavailable(err, `consumer ${consumer}`);
    }
    const messages = this.messages;
    this.loop = (async () => {
      try {
        for await (const m of messages) this.take(m);
      } catch (err) {
        this.log.error({ err }, 'consuming device events stopped');
      }
    })();
  }

  private take(m: JsMsg): void {
    const event = decodeEventMessage(m.data);
    if (event === null && isNewerFormat(m.data)) {
      // an event a newer release's edge logged: a writer of that release stores it (writers go first)
      this.stats.newerFormat++;
      if (this.stats.newerFormat === 1)
        this.log.warn(
          { seq: m.seq },
          'an event of a newer citymetrics release on the log: upgrade the writers',
        );
      nak(m, 30_000);
      return;
    }
    if (event === null) {
      this.stats.unreadable++;
      this.log.error({ seq: m.seq, subject: m.subject }, 'unreadable event on the log');
      term(m);
      return;
    }
    const { data, ...rest } = event;
    // the stream's own time for when it was received: the moment the edge's publish was acknowledged
    const receivedAt = Math.floor(m.info.timestampNanos / 1e6);
    this.batch.push({ m, event: { ...rest, data: (data ?? null) as DeviceEventRecord['data'], receivedAt } });
    if (this.batch.length >= (this.options.batchMax ?? 500)) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.options.batchWaitMs ?? 50);
  }

  private flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.batch;
    this.batch = [];
    if (batch.length === 0) return;
    this.writing = this.writing.then(async () => {
      try {
        const { inserted } = await this.deps.events.insert(batch.map((b) => b.event));
        this.stats.stored += inserted;
        this.stats.duplicates += batch.length - inserted;
        for (const b of batch) ack(b.m);
      } catch (err) {
        this.stats.failures++;
        this.log.warn({ err, events: batch.length }, 'device events not stored; handed back for redelivery');
        for (const b of batch) nak(b.m, this.options.retryDelayMs ?? 1_000);
      }
    });
  }

  /** Stops taking events and stores (or hands back) those in hand. */
  async close(): Promise<void> {
    await this.messages?.close();
    await this.loop;
    this.flush();
    await this.writing;
  }
}
