import type { JsMsg } from 'nats';
import type { SeriesPoint, WriteOutcome } from '../../core/ports/series-store.ts';

/**
 * ack and nak publish on the connection, which throws once it is closed. The message then simply stays
 * unacknowledged and JetStream redelivers it after ack_wait: nothing to do but not to throw.
 */
export const ack = (m: JsMsg): void => {
  try {
    m.ack();
  } catch {}
};
export const nak = (m: JsMsg, delayMs?: number): void => {
  try {
    m.nak(delayMs);
  } catch {}
};

export const term = (m: JsMsg): void => {
  try {
    m.term();
  } catch {}
};

export interface LaneOptions {
  /** A batch is written when it holds this many values... */
  batchMaxValues: number;
  /** ...or this many messages... */
  batchMaxMessages: number;
  /** ...or when its first message has waited this long (ms). */
  batchMaxWaitMs: number;
  /** After a failed write, how long the messages wait before JetStream redelivers them (ms). */
  retryDelayMs: number;
}

export interface LaneWrite {
  /** One store write for the batch; rejects when the store cannot take it. */
  write(points: SeriesPoint[]): Promise<WriteOutcome>;
  onWritten(outcome: WriteOutcome, messages: number, latencyMs: number): void;
  onFailed(err: unknown, messages: number): void;
}

/**
 * One shard's batch: messages wait here until the batch is full or old enough, then go to the store in
 * one write, and are acknowledged only after that write resolved. A failed write naks the batch with a
 * delay, and hands back everything behind it until the delay has passed, so a store outage neither loses
 * messages nor spins, and a newer message does not reach the store before an older one of its shard. Writes of one lane run one after another, which keeps
 * one device's messages in order. `add` resolves once the message is buffered; while a full batch waits
 * for the store, it waits too, which stops the consume loop: JetStream's max_ack_pending then bounds what
 * the client holds.
 */
export class WriterLane {
  private messages: JsMsg[] = [];
  private points: SeriesPoint[] = [];
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();
  /** After a failed write, messages are handed back until then (epoch ms), behind the batch that failed. */
  private holdUntil = 0;

  constructor(
    private readonly options: LaneOptions,
    private readonly sink: LaneWrite,
    private readonly now: () => number = Date.now,
  ) {}

  /** Messages buffered, not yet handed to the store. */
  get buffered(): number {
    return this.messages.length;
  }

  async add(msg: JsMsg, points: readonly SeriesPoint[]): Promise<void> {
    const wait = this.holdUntil - this.now();
    if (wait > 0) {
      // Writing it now would put it in the store before the older messages being redelivered.
      nak(msg, wait);
      return;
    }
    this.messages.push(msg);
    for (const p of points) this.points.push(p);
    const { batchMaxValues, batchMaxMessages, batchMaxWaitMs } = this.options;
    if (this.points.length >= batchMaxValues || this.messages.length >= batchMaxMessages) await this.flush();
    else this.timer ??= setTimeout(this.onTimer, batchMaxWaitMs);
  }

  private readonly onTimer = (): void => {
    this.timer = null;
    void this.flush();
  };

  /** Hands the buffered batch to the store (after the write in progress); resolves once it is settled. */
  flush(): Promise<void> {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.messages.length > 0) {
      const messages = this.messages;
      const points = this.points;
      this.messages = [];
      this.points = [];
      this.running = this.running.then(() => this.writeBatch(messages, points));
    }
    return this.running;
  }

  /** Naks what is buffered without writing it (shutdown): JetStream hands it to another writer at once. */
  release(): number {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const n = this.messages.length;
    for (const m of this.messages) nak(m);
    this.messages = [];
    this.points = [];
    return n;
  }

  private async writeBatch(messages: JsMsg[], points: SeriesPoint[]): Promise<void> {
    const started = this.now();
    let outcome: WriteOutcome;
    try {
      outcome =
        points.length > 0 ? await this.sink.write(points) : { inserted: 0, duplicates: 0, revisions: [] };
    } catch (err) {
      const delay = this.options.retryDelayMs;
      this.holdUntil = this.now() + delay;
      for (const m of messages) nak(m, delay);
      // What queued behind the failed batch goes back too, so that the redelivery keeps the order.
      for (const m of this.messages) nak(m, delay);
      this.messages = [];
      this.points = [];
      this.sink.onFailed(err, messages.length);
      return;
    }
    // Acknowledged only now: a writer that dies before this line leaves the batch to be redelivered, and
    // its second write is a duplicate by identity in the store, never a second point.
    for (const m of messages) ack(m);
    this.sink.onWritten(outcome, messages.length, this.now() - started);
  }
}
