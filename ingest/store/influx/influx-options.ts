import { z } from 'zod';
import { CityError } from '../../../core/errors.ts';

/**
 * How the InfluxDB store reaches the server and how it writes. Defaults sit in INFLUX_DEFAULTS; units are in
 * the names. `resolveInfluxOptions` validates, reports every bad key at once and freezes.
 *
 * Transports (`writeTransport`):
 * - `v2`: the client's WriteApi, POST /api/v2/write?org=&bucket=&precision=ms. InfluxDB 2.x, 3.x (v2
 *   compatibility), 1.8+ (org '', bucket 'db/rp', token 'user:password'), VictoriaMetrics.
 * - `v1`: line protocol POSTed to /write?db=&rp=&precision=ms. InfluxDB 1.x (all), VictoriaMetrics.
 * Reads are InfluxQL on /query (v1-compatible: 1.x, 2.x with a DBRP mapping, 3.x).
 */
export const influxOptionsSchema = z
  .object({
    url: z.url().describe('base URL of the server, e.g. http://influxdb:8086'),
    writeTransport: z.enum(['v2', 'v1']).describe('v2: WriteApi to /api/v2/write; v1: /write?db='),
    token: z.string().optional().describe('API token (2.x/3.x); sent as "Authorization: Token <token>"'),
    username: z.string().optional().describe('1.x user (basic auth) when auth is enabled'),
    password: z.string().optional().describe('1.x password (basic auth)'),
    org: z.string().default('').describe('v2 write: organisation (name or id)'),
    bucket: z.string().default('citymetrics').describe('v2 write: bucket'),
    database: z
      .string()
      .min(1)
      .default('citymetrics')
      .describe('InfluxQL database (2.x: the DBRP-mapped name); v1 write db'),
    retentionPolicy: z
      .string()
      .default('')
      .describe('v1 write and InfluxQL retention policy; empty = the default one'),
    createDatabase: z
      .boolean()
      .default(false)
      .describe('v1 only: CREATE DATABASE at open (1.x test servers, first start)'),
    indexFile: z.string().min(1).describe('SQLite file of the identity index, in the data directory'),
    retentionRawDays: z
      .number()
      .int()
      .positive()
      .default(400)
      .describe('days of points kept in InfluxDB (deleteOnPrune; else match the bucket retention)'),
    identityWindowDays: z
      .number()
      .int()
      .positive()
      .default(35)
      .describe(
        'days of identities the index remembers: older points are refused as expired; must cover the ingest late window plus the longest outage replayed from the durable log',
      ),
    deleteOnPrune: z
      .boolean()
      .default(false)
      .describe(
        'prune() also runs InfluxQL DELETE (1.x); otherwise the server retention policy expires data',
      ),
    batchSize: z.number().int().positive().default(5_000).describe('lines per HTTP write request'),
    flushIntervalMs: z
      .number()
      .int()
      .positive()
      .default(1_000)
      .describe('WriteApi: buffered lines are sent at least this often'),
    maxRetries: z
      .number()
      .int()
      .min(0)
      .default(5)
      .describe('retries of a failed request before write() rejects'),
    maxRetryTimeMs: z
      .number()
      .int()
      .positive()
      .default(30_000)
      .describe('no retry after this long since the first attempt'),
    minRetryDelayMs: z.number().int().positive().default(500).describe('first back-off delay'),
    maxRetryDelayMs: z.number().int().positive().default(10_000).describe('longest back-off delay'),
    exponentialBase: z.number().min(1).default(2).describe('back-off growth per failed attempt'),
    retryJitterMs: z.number().int().min(0).default(200).describe('random delay added to each back-off'),
    maxBufferLines: z
      .number()
      .int()
      .positive()
      .default(50_000)
      .describe('WriteApi retry buffer bound (lines); must hold one write'),
    maxPendingPoints: z
      .number()
      .int()
      .positive()
      .default(100_000)
      .describe(
        'points accepted by write() and not yet in InfluxDB; past it write() rejects at once (retryable)',
      ),
    requestTimeoutMs: z.number().int().positive().default(10_000).describe('HTTP request timeout'),
    gzipThresholdBytes: z
      .number()
      .int()
      .min(0)
      .default(1_000)
      .describe('request bodies above this are gzipped'),
  })
  .strict();

export type InfluxStoreOptions = Readonly<z.infer<typeof influxOptionsSchema>>;
export type InfluxStoreOptionsInput = z.input<typeof influxOptionsSchema>;

export function resolveInfluxOptions(input: InfluxStoreOptionsInput): InfluxStoreOptions {
  const parsed = influxOptionsSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `influx.${i.path.join('.')}: ${i.message}`);
    throw new CityError('CONFIG_INVALID', `invalid InfluxDB store options:\n  - ${problems.join('\n  - ')}`, {
      details: problems,
    });
  }
  const o = parsed.data;
  const problems: string[] = [];
  if (o.maxBufferLines < o.batchSize) problems.push('influx.maxBufferLines: must be at least batchSize');
  if (o.maxRetryDelayMs < o.minRetryDelayMs)
    problems.push('influx.maxRetryDelayMs: must be at least minRetryDelayMs');
  if (o.identityWindowDays > o.retentionRawDays)
    problems.push('influx.identityWindowDays: must not exceed retentionRawDays');
  if (o.token !== undefined && o.username !== undefined)
    problems.push('influx.token: give a token or a username/password, not both');
  if (problems.length > 0)
    throw new CityError('CONFIG_INVALID', `invalid InfluxDB store options:\n  - ${problems.join('\n  - ')}`, {
      details: problems,
    });
  return Object.freeze(o);
}

/** HTTP headers for auth, the same for /write, /api/v2/write and /query. */
export function authHeaders(
  o: Pick<InfluxStoreOptions, 'token' | 'username' | 'password'>,
): Record<string, string> {
  if (o.token !== undefined && o.token !== '') return { authorization: `Token ${o.token}` };
  if (o.username !== undefined && o.username !== '') {
    const basic = Buffer.from(`${o.username}:${o.password ?? ''}`).toString('base64');
    return { authorization: `Basic ${basic}` };
  }
  return {};
}
