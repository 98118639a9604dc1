import { z } from 'zod';

const positiveInt = z.coerce.number().int().positive();
const flag = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);

/**
 * The configuration keys of the InfluxDB series store, spread into configSchema (environment names follow
 * its rule: `influxUrl` ← INFLUX_URL). Only read when `STORE=influxdb`; ingest/store/influx/influx-config.ts
 * maps them to the store's options.
 */
export const influxConfigShape = {
  influxUrl: z.string().default('http://127.0.0.1:8086').describe('InfluxDB base URL'),
  influxWriteTransport: z
    .enum(['v2', 'v1'])
    .default('v2')
    .describe('v2: WriteApi to /api/v2/write (InfluxDB 2.x, 3.x, 1.8+); v1: /write?db= (InfluxDB 1.x)'),
  influxToken: z.string().optional().describe('API token (2.x/3.x; 1.8+: "user:password")'),
  influxUsername: z.string().optional().describe('1.x user, when auth is enabled'),
  influxPassword: z.string().optional().describe('1.x password'),
  influxOrg: z.string().default('').describe('v2 write: organisation'),
  influxBucket: z.string().default('citymetrics').describe('v2 write: bucket (1.8+: "db/rp")'),
  influxDatabase: z
    .string()
    .default('citymetrics')
    .describe('InfluxQL database (2.x: DBRP-mapped name); v1 write db'),
  influxRetentionPolicy: z.string().default('').describe('1.x retention policy; empty = the default'),
  influxCreateDatabase: flag.default(false).describe('v1: CREATE DATABASE at start'),
  influxDeleteOnPrune: flag
    .default(false)
    .describe('1.x: prune deletes from InfluxDB too (2.x: bucket retention does)'),
  influxRetentionRawDays: positiveInt
    .default(400)
    .describe('days of points kept; match the bucket retention'),
  influxIdentityWindowDays: positiveInt
    .default(35)
    .describe(
      'days of reading identities remembered for duplicate/revision detection (>= late window + outages)',
    ),
  influxBatchSize: positiveInt.default(5_000).describe('lines per write request'),
  influxFlushIntervalMs: positiveInt.default(1_000).describe('WriteApi flush interval'),
  influxMaxRetries: z.coerce.number().int().min(0).default(5).describe('retries of a failed write request'),
  influxMaxRetryTimeMs: positiveInt.default(30_000).describe('give up retrying a request after this long'),
  influxMinRetryDelayMs: positiveInt.default(500).describe('first back-off delay'),
  influxMaxRetryDelayMs: positiveInt.default(10_000).describe('longest back-off delay'),
  influxMaxBufferLines: positiveInt.default(50_000).describe('WriteApi retry buffer bound (lines)'),
  influxMaxPendingPoints: positiveInt
    .default(100_000)
    .describe('points waiting for InfluxDB; past it writes are refused (retryable)'),
  influxRequestTimeoutMs: positiveInt.default(10_000).describe('HTTP timeout'),
};
