/**
 * Sends line protocol to InfluxDB and says when the server has it. The store calls `write` once at a time
 * (it serialises its writes), so a writer tracks one call's lines at a time.
 */
export interface LineWriter {
  readonly transport: 'v1' | 'v2';
  /**
   * Resolves once the server accepted every line; rejects (a WriteAttemptError) once the writer gives up on
   * any of them: retries exhausted, deadline passed, a non-retryable answer, lines dropped from the bounded
   * retry buffer, or close(). Lines accepted before a rejection stay written: resending is idempotent.
   */
  write(lines: readonly string[]): Promise<void>;
  /** Stops retrying, rejects a write in progress, releases timers and sockets. */
  close(): Promise<void>;
}

export interface LineWriterHooks {
  /** Every failed HTTP attempt, retried or not: the write-failure counter. */
  onAttemptFailed(err: Error, attempt: number): void;
}

/** Splits lines into request-sized chunks. */
export function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}
