import pRetry from 'p-retry';
import { DeliveryAttemptError } from './delivery-target.ts';

/** Retries of a delivery (REPORT_RETRY_*): exponential back-off, doubling, each delay randomised ×1–2. */
export interface RetrySettings {
  /** retries after the first attempt, over the delivery's whole life (restarts included) */
  retries: number;
  minDelayMs: number;
  maxDelayMs: number;
}

export type RetryOutcome = 'delivered' | 'failed' | 'aborted';

/**
 * Runs attempts until one delivers, one is refused for good, the retries are spent or `signal` aborts (a
 * shutdown: the delivery stays pending and the next start goes on). `attemptsBefore` are the attempts an
 * earlier run already made, counted against the same budget. Each failure is reported with whether it was
 * the last, so the record says so at once.
 */
export async function retryDelivery(options: {
  attempt: () => Promise<void>;
  attemptsBefore: number;
  settings: RetrySettings;
  signal: AbortSignal;
  onFailure(error: DeliveryAttemptError, final: boolean): void;
}): Promise<RetryOutcome> {
  const { settings, signal } = options;
  const left = settings.retries + 1 - options.attemptsBefore;
  if (left <= 0) return 'failed';
  try {
    await pRetry(
      async () => {
        try {
          await options.attempt();
        } catch (err) {
          if (signal.aborted) throw err;
          throw err instanceof DeliveryAttemptError
            ? err
            : new DeliveryAttemptError((err as Error).message, true, { cause: err });
        }
      },
      {
        retries: left - 1,
        factor: 2,
        minTimeout: settings.minDelayMs,
        maxTimeout: settings.maxDelayMs,
        randomize: true,
        signal,
        // the timer of a back-off must not keep a stopping process alive: close() aborts it anyway
        unref: true,
        onFailedAttempt: ({ error, retriesLeft }) => {
          // an attempt cut by the shutdown is no failure of the target's
          if (signal.aborted) return;
          const e = error as DeliveryAttemptError;
          options.onFailure(e, !e.retryable || retriesLeft <= 0);
        },
        shouldRetry: ({ error }) => !signal.aborted && (error as DeliveryAttemptError).retryable,
      },
    );
    return 'delivered';
  } catch (err) {
    if (signal.aborted) return 'aborted';
    if (err instanceof DeliveryAttemptError) return 'failed';
    throw err;
  }
}
