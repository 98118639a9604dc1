import { readFileSync } from 'node:fs';
import proxyaddr from 'proxy-addr';
import { z } from 'zod';
import { isValidTimeZone } from './city-calendar.ts';
import { clusterConfigShape, roleList } from './config-cluster.ts';
import { influxConfigShape } from './config-influx.ts';
import { lorawanConfigShape } from './config-lorawan.ts';
import { reportConfigShape } from './config-reports.ts';
import { CityError } from './errors.ts';
import { PEAK_WINDOWS_FORM, parsePeakWindows } from './peak-windows.ts';

/** The proxy names and forms express's `trust proxy` (proxy-addr) accepts, checked here so a typo is named at start. */
export function isTrustedProxyList(list: string): boolean {
  try {
    proxyaddr.compile(trustedProxyEntries(list));
    return true;
  } catch {
    return false;
  }
}

export const trustedProxyEntries = (list: string): string[] =>
  list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

const port = z.coerce.number().int().min(0).max(65_535);
const positiveInt = z.coerce.number().int().positive();

/**
 * Every setting, its default and its meaning. Environment variables are the CONSTANT_CASE of each key
 * (`httpPort` ← `HTTP_PORT`); a JSON file named by CONFIG_FILE may set the same keys in camelCase, and the
 * environment wins over it. Units are in the names.
 */
export const configSchema = z
  .object({
    httpPort: port.default(3000).describe('HTTP port of the REST API, live page and /metrics'),
    httpHost: z.string().default('0.0.0.0').describe('address the HTTP server binds'),
    mqttPort: port.default(1883).describe('MQTT over TCP'),
    mqttWsPort: port.default(9001).describe('MQTT over WebSocket (path /mqtt); 0 picks a free port'),
    mqttHost: z.string().default('0.0.0.0').describe('address the MQTT listeners bind'),
    dataDir: z.string().default('./data').describe('where the embedded databases live'),
    adminToken: z
      .string()
      .min(24)
      .optional()
      .describe(
        'first admin API key; if unset one is generated on first start, stored hashed and printed once',
      ),
    cityName: z.string().min(1).default('Demo City').describe('name shown on pages and exports'),
    cityTimezone: z
      .string()
      .default('UTC')
      .refine(isValidTimeZone, 'not an IANA time zone')
      .describe('IANA zone: days and months are calendar periods here'),
    logLevel: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info')
      .describe('pino level'),
    store: z
      .enum(['sqlite', 'influxdb', 'postgres'])
      .default('sqlite')
      .describe('series store: embedded SQLite, InfluxDB (INFLUX_* below) or PostgreSQL (POSTGRES_URL)'),
    mqttMaxPayloadBytes: positiveInt.default(65_536).describe('largest MQTT payload accepted'),
    mqttMaxConnections: positiveInt.default(100_000).describe('connections beyond this are refused'),
    mqttConnectTimeoutMs: positiveInt
      .default(10_000)
      .describe('a connection must complete CONNECT within this'),
    deviceRateLimitPerSec: positiveInt
      .default(50)
      .describe('messages per second one device may publish (burst ×2)'),
    ingestFutureSkewMs: positiveInt
      .default(5 * 60_000)
      .describe('readings stamped further ahead are refused'),
    ingestLateWindowMs: positiveInt
      .default(7 * 24 * 3_600_000)
      .describe('readings older than this are refused'),
    ingestMaxReadingsPerMessage: positiveInt.default(1_000).describe('largest batch in one message'),
    logFlushIntervalMs: positiveInt
      .default(5)
      .describe('group commit: the durable log commits at least this often'),
    logFlushMaxValues: positiveInt.default(2_000).describe('group commit: or when this many values wait'),
    logSync: z
      .enum(['normal', 'full'])
      .default('normal')
      .describe('normal survives a process crash; full also survives power loss (slower)'),
    ingestMaxBacklogValues: positiveInt
      .default(200_000)
      .describe('values logged but not yet in the series store; past it acknowledgements wait'),
    retentionLogDays: positiveInt.default(8).describe('durable log retention (must cover the late window)'),
    retentionRawDays: positiveInt.default(35).describe('raw points retention'),
    retentionMinuteDays: positiveInt.default(14).describe('minute roll-ups retention'),
    retentionHourDays: positiveInt.default(400).describe('hour roll-ups retention'),
    retentionDayDays: positiveInt
      .default(3_660)
      .describe('day roll-ups retention (months wholly before it leave the month tier)'),
    livePushIntervalMs: positiveInt.default(500).describe('live page updates are coalesced to this period'),
    corsOrigins: z
      .string()
      .default('')
      .describe('comma-separated origins allowed by CORS; empty = same origin only'),
    trustedProxies: z
      .string()
      .default('')
      .refine(
        isTrustedProxyList,
        'expected comma-separated addresses, CIDR ranges, loopback, linklocal or uniquelocal',
      )
      .describe(
        'reverse proxies whose X-Forwarded-For is believed (addresses, CIDRs, loopback, uniquelocal); empty = none',
      ),
    httpBodyLimitBytes: positiveInt.default(1_048_576).describe('largest HTTP request body'),
    mqttTlsPort: port
      .default(8883)
      .describe('MQTT over TLS; listens only when mqttTlsCertFile and mqttTlsKeyFile are set'),
    mqttTlsCertFile: z.string().min(1).optional().describe('PEM certificate (chain) for MQTT over TLS'),
    mqttTlsKeyFile: z.string().min(1).optional().describe('PEM private key for MQTT over TLS'),
    httpTlsCertFile: z
      .string()
      .min(1)
      .optional()
      .describe('PEM certificate (chain): with httpTlsKeyFile the API serves HTTPS'),
    httpTlsKeyFile: z.string().min(1).optional().describe('PEM private key for HTTPS'),
    ...influxConfigShape,
    postgresUrl: z
      .string()
      .min(1)
      .optional()
      .describe('STORE=postgres: postgres://user:password@host:5432/database, a database of its own'),
    kpiCloseGraceDays: z.coerce
      .number()
      .int()
      .min(0)
      .max(366)
      .default(5)
      .describe('a month closes (roll-up frozen as version 1) this many days after it ends'),
    kpiCaptureThreshold: z.coerce
      .number()
      .min(0)
      .max(1)
      .default(0.9)
      .describe('completeness below this makes a KPI value provisional (EU air-quality practice: 0.9)'),
    kpiRecomputeDebounceMs: positiveInt
      .default(2_000)
      .describe('KPIs recompute this long after data arrives'),
    kpiRecomputeMinIntervalMs: z.coerce
      .number()
      .int()
      .min(0)
      .default(30_000)
      .describe('least time between two data-driven recomputes of the running KPI periods (ms)'),
    kpiNoiseThresholdDb: z.coerce.number().positive().default(55).describe('Noise Exposure threshold, dB(A)'),
    kpiEmfLimitVm: z.coerce.number().positive().default(28).describe('EMF Exposure reference level, V/m'),
    kpiBroadbandLteMinDbm: z.coerce
      .number()
      .min(-156)
      .max(-31)
      .default(-110)
      .describe('Wireless Broadband Coverage: 4G (LTE RSRP) a probe location needs to count as covered, dBm'),
    kpiBroadbandUmtsMinDbm: z.coerce
      .number()
      .min(-140)
      .max(-20)
      .default(-100)
      .describe(
        'Wireless Broadband Coverage: 3G (UMTS RSCP) a probe location needs to count as covered, dBm',
      ),
    ttiPeakWindows: z
      .string()
      .default('07:00-09:00,16:30-18:30')
      .refine((s) => parsePeakWindows(s) !== null, { message: `expected ${PEAK_WINDOWS_FORM}` })
      .describe('Travel Time Index peak periods, local clock windows on weekdays (Monday to Friday)'),
    ...clusterConfigShape,
    ...lorawanConfigShape,
    ...reportConfigShape,
  })
  .strict();

export type Config = Readonly<z.infer<typeof configSchema>>;
export type ConfigInput = z.input<typeof configSchema>;

export const envNameOf = (key: string): string => key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();

/** Reads the settings from an environment (and the file it names), reports every bad key at once, freezes. */
export function loadConfig(env: NodeJS.ProcessEnv, overrides: Partial<ConfigInput> = {}): Config {
  const input: Record<string, unknown> = {};
  const keys = Object.keys(configSchema.shape);
  const problems: string[] = [];
  if (env.CONFIG_FILE) {
    try {
      const file = JSON.parse(readFileSync(env.CONFIG_FILE, 'utf8')) as Record<string, unknown>;
      for (const [key, value] of Object.entries(file)) {
        if (!keys.includes(key)) problems.push(`${env.CONFIG_FILE}: unknown key "${key}"`);
        else input[key] = value;
      }
    } catch (err) {
      problems.push(`CONFIG_FILE ${env.CONFIG_FILE}: ${(err as Error).message}`);
    }
  }
  for (const key of keys) {
    const value = env[envNameOf(key)];
    if (value !== undefined && value !== '') input[key] = value;
  }
  Object.assign(input, overrides);
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = String(issue.path[0] ?? '');
      problems.push(`${envNameOf(key)}: ${issue.message}`);
    }
  }
  if (parsed.success) problems.push(...crossFieldProblems(parsed.data));
  if (problems.length > 0 || !parsed.success) {
    throw new CityError('CONFIG_INVALID', `invalid configuration:\n  - ${problems.join('\n  - ')}`, {
      details: problems,
    });
  }
  return Object.freeze(parsed.data);
}

const DAY_MS = 86_400_000;

/**
 * Rules between keys, which the per-key schema cannot express. A reading accepted inside the late window
 * but already past raw retention would be acknowledged and then dropped by the store: refuse such settings
 * at start instead.
 */
function crossFieldProblems(c: z.infer<typeof configSchema>): string[] {
  const problems: string[] = [];
  const rawMs = c.retentionRawDays * DAY_MS;
  if (c.ingestLateWindowMs >= rawMs)
    problems.push(
      `${envNameOf('ingestLateWindowMs')} (${c.ingestLateWindowMs} ms) must be less than ` +
        `${envNameOf('retentionRawDays')} (${c.retentionRawDays} days = ${rawMs} ms): ` +
        `shorten ${envNameOf('ingestLateWindowMs')} or raise ${envNameOf('retentionRawDays')}`,
    );
  if (c.store === 'postgres' && c.postgresUrl === undefined)
    problems.push(`${envNameOf('postgresUrl')} is required with ${envNameOf('store')}=postgres`);
  problems.push(...clusterProblems(c), ...reportProblems(c));
  return problems;
}

/** An unsigned report webhook would let anyone who learns the URL post a forged pack: refuse it. */
function reportProblems(c: z.infer<typeof configSchema>): string[] {
  const problems: string[] = [];
  if (c.reportWebhookUrl !== undefined && c.reportWebhookSecret === undefined)
    problems.push(
      `${envNameOf('reportWebhookSecret')} is required with ${envNameOf('reportWebhookUrl')}: the receiver checks each body's HMAC-SHA256 with it`,
    );
  if (c.reportRetryMinDelayMs > c.reportRetryMaxDelayMs)
    problems.push(
      `${envNameOf('reportRetryMinDelayMs')} (${c.reportRetryMinDelayMs}) must not exceed ${envNameOf('reportRetryMaxDelayMs')} (${c.reportRetryMaxDelayMs})`,
    );
  return problems;
}

/**
 * Cluster mode (a role given): the nodes share NATS JetStream and PostgreSQL, so both must be named, and a
 * role that reads or writes series needs a store the other nodes see too, never a file of its own.
 */
function clusterProblems(c: z.infer<typeof configSchema>): string[] {
  const roles = roleList(c.roles);
  if (roles.length === 0) return [];
  const problems: string[] = [];
  const named = `${envNameOf('roles')}=${roles.join(',')}`;
  if (c.natsUrl === undefined || roleList(c.natsUrl).length === 0)
    problems.push(
      `${envNameOf('natsUrl')} is required with ${named}: set it to the NATS servers (nats://host:4222,...)`,
    );
  if (c.postgresUrl === undefined)
    problems.push(
      `${envNameOf('postgresUrl')} is required with ${named}: the device registry and API keys live there (postgres://user:password@host:5432/database)`,
    );
  const storeRoles = roles.filter((r) => r !== 'edge');
  if (storeRoles.length > 0 && c.store === 'sqlite')
    problems.push(
      `${envNameOf('store')}=sqlite cannot be shared by the ${storeRoles.join(', ')} role(s): set ${envNameOf('store')}=postgres (with ${envNameOf('postgresUrl')}) or ${envNameOf('store')}=influxdb`,
    );
  const outside = roleList(c.writerShards).filter((s) => Number(s) >= c.jetstreamShards);
  if (outside.length > 0)
    problems.push(
      `${envNameOf('writerShards')} ${outside.join(',')} not in 0..${c.jetstreamShards - 1} (${envNameOf('jetstreamShards')}=${c.jetstreamShards}): name shards below ${envNameOf('jetstreamShards')}`,
    );
  return problems;
}

/** Settings for tests: ephemeral ports, silent logs; the caller supplies dataDir. */
export function testConfig(overrides: Partial<ConfigInput> & { dataDir: string }): Config {
  return loadConfig(
    {},
    {
      httpPort: 0,
      mqttPort: 0,
      mqttWsPort: 0,
      httpHost: '127.0.0.1',
      mqttHost: '127.0.0.1',
      logLevel: 'silent',
      ...overrides,
    },
  );
}
