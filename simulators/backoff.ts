import type { Prng } from './prng.ts';

export interface BackoffOptions {
  /** First delay after a lost connection, ms. */
  initialMs: number;
  /** Ceiling of the delay, ms. */
  maxMs: number;
  /** Growth per failed attempt. */
  factor: number;
  /** Share of the delay that is random (0 = none, 1 = anywhere in [0, delay]). */
  jitter: number;
}

export const defaultBackoff: BackoffOptions = { initialMs: 500, maxMs: 30_000, factor: 2, jitter: 0.5 };

/**
 * Exponential back-off with jitter. mqtt.js retries at a fixed `reconnectPeriod`, so after a broker restart
 * thousands of devices would reconnect in lock-step; growing, randomised delays spread them out.
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly options: BackoffOptions,
    private readonly prng: Prng,
  ) {}

  /** The delay before the next attempt; each call counts one more failed attempt. */
  next(): number {
    const ceiling = Math.min(
      this.options.maxMs,
      this.options.initialMs * this.options.factor ** this.attempt,
    );
    this.attempt = Math.min(this.attempt + 1, 64);
    const jitter = Math.min(1, Math.max(0, this.options.jitter));
    return Math.round(ceiling * (1 - jitter) + ceiling * jitter * this.prng.next());
  }

  /** A connection succeeded: start from the initial delay again. */
  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}
