import type { CityError, ErrorCode } from '../errors.ts';

export type IngestChannel = 'telemetry' | 'events';

export type IngestResult = { ok: true; accepted: number } | { ok: false; error: CityError };

/**
 * What the gateway hands messages to. `submit` resolves once accepted readings are in the durable log (the
 * gateway sends the QoS 1 PUBACK only then), or at once with the refusal. It never rejects: a failure is a
 * result with a retryable error code.
 */
export interface IngestSink {
  submit(deviceId: string, channel: IngestChannel, payload: Buffer): Promise<IngestResult>;
  /** Counts a refusal decided before ingest (ACL, size, rate limit) so every refusal shows in one place. */
  countRefusal(deviceId: string | null, code: ErrorCode): void;
}
