import { join } from 'node:path';
import type { z } from 'zod';
import { influxConfigShape } from '../../../core/config-influx.ts';
import type { InfluxStoreOptionsInput } from './influx-options.ts';

export { influxConfigShape };

export type InfluxConfig = z.infer<z.ZodObject<typeof influxConfigShape>>;

/** Store options from the validated config; the identity index lives in `<dataDir>/influx-index.db`. */
export function influxOptionsFromConfig(c: InfluxConfig, dataDir: string): InfluxStoreOptionsInput {
  return {
    url: c.influxUrl,
    writeTransport: c.influxWriteTransport,
    ...(c.influxToken !== undefined ? { token: c.influxToken } : {}),
    ...(c.influxUsername !== undefined ? { username: c.influxUsername } : {}),
    ...(c.influxPassword !== undefined ? { password: c.influxPassword } : {}),
    org: c.influxOrg,
    bucket: c.influxBucket,
    database: c.influxDatabase,
    retentionPolicy: c.influxRetentionPolicy,
    createDatabase: c.influxCreateDatabase,
    deleteOnPrune: c.influxDeleteOnPrune,
    retentionRawDays: c.influxRetentionRawDays,
    identityWindowDays: c.influxIdentityWindowDays,
    indexFile: join(dataDir, 'influx-index.db'),
    batchSize: c.influxBatchSize,
    flushIntervalMs: c.influxFlushIntervalMs,
    maxRetries: c.influxMaxRetries,
    maxRetryTimeMs: c.influxMaxRetryTimeMs,
    minRetryDelayMs: c.influxMinRetryDelayMs,
    maxRetryDelayMs: c.influxMaxRetryDelayMs,
    maxBufferLines: c.influxMaxBufferLines,
    maxPendingPoints: c.influxMaxPendingPoints,
    requestTimeoutMs: c.influxRequestTimeoutMs,
  };
}
