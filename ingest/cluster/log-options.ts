import { z } from 'zod';
import { CityError } from '../../core/errors.ts';

/**
 * What edges and writers must agree on about the JetStream log. Every edge and every writer of one
 * platform is given the same values; the stream records them (its description names the shard count),
 * so a node started with other values is refused instead of publishing where nobody reads.
 */
export interface JetStreamLogOptions {
  /** JetStream stream name. */
  stream: string;
  /** First subject token: readings go to `<prefix>.readings.<shard>`, events to `<prefix>.events.<shard>`. */
  subjectPrefix: string;
  /** Subjects readings are spread over by a hash of the device id; writers split the work by shard. */
  shards: number;
  /** Copies of each message in a JetStream cluster: 3 in production, 1 for a single server. */
  replicas: number;
  /** How long JetStream remembers message ids to drop a resend (ms). */
  duplicateWindowMs: number;
  /** How long messages stay in the stream after they were written (ms): the replay horizon. */
  maxAgeMs: number;
}

export const JETSTREAM_LOG_DEFAULTS: Readonly<JetStreamLogOptions> = Object.freeze({
  stream: 'CITYMETRICS_READINGS',
  subjectPrefix: 'citymetrics',
  shards: 16,
  replicas: 3,
  duplicateWindowMs: 120_000,
  maxAgeMs: 7 * 86_400_000,
});

// NATS subject tokens and stream names: no dots (tokens), wildcards or whitespace.
const token = z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only');

const schema = z.strictObject({
  stream: token,
  subjectPrefix: token,
  shards: z.int().min(1).max(1024),
  replicas: z.int().min(1).max(5),
  duplicateWindowMs: z.int().min(1_000),
  maxAgeMs: z.int().min(60_000),
});

/** Defaults overlaid with `input`, validated (every bad key reported at once) and frozen. */
export function jetStreamLogOptions(input: Partial<JetStreamLogOptions> = {}): Readonly<JetStreamLogOptions> {
  const parsed = schema.safeParse({ ...JETSTREAM_LOG_DEFAULTS, ...input });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new CityError('CONFIG_INVALID', `JetStream log options: ${problems.join('; ')}`, {
      details: problems,
    });
  }
  return Object.freeze(parsed.data);
}
