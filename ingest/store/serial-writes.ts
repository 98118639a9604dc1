import { CityError } from '../../core/errors.ts';

/**
 * Runs a remote store's writes one at a time in arrival order, so a revision is never overtaken by an
 * older value still in flight, and bounds the points waiting behind: past `maxPendingPoints` a write is
 * refused at once (retryable), so a slow or absent database presses on the ingest backlog, never on this
 * process's memory.
 */
export class SerialWrites {
  private tail: Promise<unknown> = Promise.resolve();
  /** points accepted by run() and not yet settled */
  pending = 0;

  constructor(
    private readonly storeName: string,
    private readonly maxPendingPoints: number,
  ) {}

  async run<T>(points: number, write: () => Promise<T>): Promise<T> {
    if (this.pending > 0 && this.pending + points > this.maxPendingPoints)
      throw new CityError(
        'INGEST_STORE_UNAVAILABLE',
        `${this.storeName} is behind: ${this.pending} points pending`,
        {
          details: { pending: this.pending, maxPendingPoints: this.maxPendingPoints },
        },
      );
    this.pending += points;
    const run = this.tail.then(write);
    this.tail = run.catch(() => undefined);
    try {
      return await run;
    } finally {
      this.pending -= points;
    }
  }

  /** Resolves once every write accepted so far has settled. */
  async drained(): Promise<void> {
    await this.tail;
  }
}
