import type { Clock, ClockTimer } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';

/** A write not yet taken by the records after this many tries is logged again at every tenth. */
const LOG_EVERY = 10;

/**
 * The alert records' writes, in the order the engine made them, one at a time. The engine decides in memory
 * and at once (it runs on the ingest path, which must not wait for a database); this carries each decision
 * to the records. A write that fails (PostgreSQL restarting) is tried again every `retryMs` of the clock, and
 * the ones behind it wait, so the stored state is always a state the engine went through. A write that
 * starts while none is pending starts at once: on SQLite it is on disk when the engine's call returns.
 */
export class AlertWrites {
  private readonly queue: Array<{ what: string; run: () => Promise<unknown> }> = [];
  private running = false;
  private tries = 0;
  private timer: ClockTimer | null = null;
  private idleWaiters: Array<() => void> = [];
  private closed = false;

  constructor(
    private readonly log: Logger,
    private readonly clock: Pick<Clock, 'setTimeout'>,
    private readonly retryMs = 1_000,
  ) {}

  /** Writes waiting or in flight. */
  get pending(): number {
    return this.queue.length;
  }

  enqueue(what: string, run: () => Promise<unknown>): void {
    if (this.closed) {
      this.log.error({ what }, 'alert write after close: not stored');
      return;
    }
    this.queue.push({ what, run });
    if (!this.running && this.timer === null) this.next();
  }

  /**
   * Resolves once every write enqueued so far was stored, or after `timeoutMs` if given (the records may be
   * unreachable for longer than a reader should wait: it then reads what is stored).
   */
  idle(timeoutMs?: number): Promise<void> {
    if (this.queue.length === 0) return Promise.resolve();
    const drained = new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    if (timeoutMs === undefined) return drained;
    // A real timer, not the clock's: it bounds a wait for the records (I/O), during which a test's clock does
    // not move, and a hand-moved clock would hold the reader for ever.
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
      timer.unref();
    });
    return Promise.race([drained, late]).finally(() => clearTimeout(timer));
  }

  private next(): void {
    const head = this.queue[0];
    if (head === undefined) {
      for (const w of this.idleWaiters.splice(0)) w();
      return;
    }
    this.running = true;
    let ran: Promise<unknown>;
    try {
      ran = head.run();
    } catch (err) {
      ran = Promise.reject(err);
    }
    ran.then(
      () => {
        this.running = false;
        this.tries = 0;
        this.queue.shift();
        this.next();
      },
      (err: unknown) => {
        this.running = false;
        this.tries++;
        if (this.tries === 1 || this.tries % LOG_EVERY === 0)
          this.log.warn(
            { err, what: head.what, tries: this.tries, pending: this.queue.length },
            'alert change not stored yet; trying again',
          );
        if (this.closed) return;
        this.timer = this.clock.setTimeout(this.onRetry, this.retryMs);
      },
    );
  }

  private readonly onRetry = (): void => {
    this.timer = null;
    this.next();
  };

  /**
   * Waits up to `timeoutMs` for what is pending, then stops retrying; returns how many writes were left
   * unstored (logged by the caller: those alert changes are lost with the process).
   */
  async close(timeoutMs = 5_000): Promise<number> {
    await this.idle(timeoutMs);
    this.closed = true;
    this.timer?.cancel();
    this.timer = null;
    return this.queue.length;
  }
}
