import { existsSync } from 'node:fs';
import cliProgress from 'cli-progress';
import { type Command, InvalidArgumentError } from 'commander';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { isValidTimeZone } from '../core/city-calendar.ts';
import { CityError } from '../core/errors.ts';
import { createLogger } from '../core/logger.ts';
import { planCity } from './city-plan.ts';
import {
  type DeviceCredential,
  provisionDevices,
  readCredentialsFile,
  writeCredentialsFile,
} from './credentials.ts';
import type { FaultOptionsInput } from './faults.ts';
import { formatProgress, formatReport } from './report-format.ts';
import { runSimulation } from './simulation.ts';

export const DEFAULT_DISTRICTS = ['Old Town', 'Riverside', 'Harbour', 'University', 'Northgate'];

export interface SimulateCommandOptions {
  url: string;
  api: string;
  token?: string;
  credentials?: string;
  devices: number;
  rate?: number;
  speed?: number;
  qos: 0 | 1;
  seed: number;
  duration: number;
  districts: string[];
  timezone: string;
  connectRate: number;
  outage: number;
  json?: boolean;
  faultMalformed: number;
  faultOutOfRange: number;
  faultWrongUnit: number;
  faultDuplicate: number;
  faultOutOfOrder: number;
  faultLate: number;
  lateBy: number;
  faultClockSkew: number;
  clockSkew: number;
  faultDropout: number;
  dropoutMs: number;
}

const probability = (v: string): number => {
  const n = Number(v);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError('a probability from 0 to 1');
  return n;
};
const positive = (v: string): number => {
  const n = Number(v);
  if (!(n > 0 && Number.isFinite(n))) throw new InvalidArgumentError('a number above 0');
  return n;
};
const wholeNumber = (min: number, max: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new InvalidArgumentError(`a whole number from ${min} to ${max}`);
  return n;
};
const brokerUrl = (v: string): string => {
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw new InvalidArgumentError(
      'not a URL; expected e.g. mqtt://localhost:1883 or ws://localhost:9001/mqtt',
    );
  }
  if (!['mqtt:', 'mqtts:', 'tcp:', 'ws:', 'wss:'].includes(url.protocol)) {
    throw new InvalidArgumentError(
      `unsupported scheme ${url.protocol} (use mqtt://, mqtts://, ws:// or wss://)`,
    );
  }
  return v;
};
const httpUrl = (v: string): string => {
  try {
    const url = new URL(v);
    if (url.protocol === 'http:' || url.protocol === 'https:') return v;
  } catch {
    // reported below
  }
  throw new InvalidArgumentError('expected an http:// or https:// URL, e.g. http://localhost:3000');
};
const timezone = (v: string): string => {
  if (!isValidTimeZone(v)) throw new InvalidArgumentError('not an IANA time zone (e.g. Europe/Berlin)');
  return v;
};

/** `citymetrics simulate`: a fleet of virtual devices on a running platform. */
export function registerSimulateCommand(program: Command): void {
  program
    .command('simulate')
    .description(
      'run virtual city devices against a running platform (provisions them through the API first)',
    )
    .option('--url <mqtt url>', 'MQTT broker (mqtt:// or ws://)', brokerUrl, 'mqtt://localhost:1883')
    .option(
      '--api <http url>',
      'platform API, for provisioning',
      httpUrl,
      process.env.CITYMETRICS_API ?? 'http://localhost:3000',
    )
    .option('--token <admin key>', 'admin API key (or CITYMETRICS_TOKEN)')
    .option(
      '--credentials <file>',
      'device credentials: read if the file exists, else written after provisioning',
    )
    .option('--devices <n>', 'devices to provision', wholeNumber(1, 100_000), 100)
    .option('--rate <readings/s>', 'total readings per second across the fleet', positive)
    .option(
      '--speed <x>',
      'report this many times faster than the kinds\u2019 intervals (when --rate is not given)',
      positive,
    )
    .option('--qos <0|1>', 'MQTT QoS of readings', (v) => wholeNumber(0, 1)(v) as 0 | 1, 1)
    .option(
      '--seed <n>',
      'seed: the same seed gives the same city and values',
      wholeNumber(0, 2 ** 32 - 1),
      1,
    )
    .option('--duration <s>', 'seconds to run; 0 = until Ctrl-C', wholeNumber(0, 365 * 86_400), 0)
    .option(
      '--districts <a,b,c>',
      'district names',
      (v) =>
        v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      DEFAULT_DISTRICTS,
    )
    .option('--timezone <zone>', 'IANA zone of the city', timezone, process.env.CITY_TIMEZONE ?? 'UTC')
    .option('--connect-rate <n/s>', 'devices connected per second', positive, 200)
    .option(
      '--outage <p>',
      'probability per reading that an electricity meter loses supply',
      probability,
      0.002,
    )
    .option('--fault-malformed <p>', 'probability of a broken JSON payload', probability, 0)
    .option('--fault-out-of-range <p>', 'probability of a value outside the plausible range', probability, 0)
    .option('--fault-wrong-unit <p>', 'probability of an unknown unit ("furlongs")', probability, 0)
    .option('--fault-duplicate <p>', 'probability of sending a reading twice', probability, 0)
    .option(
      '--fault-out-of-order <p>',
      'probability of holding a reading back behind the next',
      probability,
      0,
    )
    .option(
      '--fault-late <p>',
      'probability of a reading stamped --late-by seconds in the past',
      probability,
      0,
    )
    .option('--late-by <s>', 'age of late readings, seconds', positive, 3600)
    .option('--fault-clock-skew <share>', 'share of devices with a skewed clock', probability, 0)
    .option('--clock-skew <s>', 'clock skew of those devices, seconds (negative = behind)', Number, 600)
    .option(
      '--fault-dropout <p>',
      'probability per reading that a device drops its connection',
      probability,
      0,
    )
    .option('--dropout-ms <ms>', 'how long a dropped device stays silent', wholeNumber(0, 86_400_000), 5000)
    .option('--json', 'print the final report as JSON')
    .action(async (opts: SimulateCommandOptions) => {
      await runSimulateCommand(opts);
    });
}

async function loadOrProvision(opts: SimulateCommandOptions): Promise<DeviceCredential[]> {
  if (opts.credentials !== undefined && existsSync(opts.credentials)) {
    const devices = readCredentialsFile(opts.credentials);
    process.stderr.write(`Using ${devices.length} devices from ${opts.credentials}\n`);
    return devices;
  }
  const token = opts.token ?? process.env.CITYMETRICS_TOKEN;
  if (!token) {
    throw new CityError(
      'API_UNAUTHENTICATED',
      'provisioning devices needs an admin API key: pass --token <key> or set CITYMETRICS_TOKEN (or give --credentials <file> of provisioned devices)',
    );
  }
  const plan = planCity({ devices: opts.devices, districts: opts.districts, seed: opts.seed });
  const bar = process.stderr.isTTY
    ? new cliProgress.SingleBar(
        { format: 'provisioning [{bar}] {value}/{total}', stream: process.stderr },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(plan.length, 0);
  try {
    const devices = await provisionDevices({
      api: opts.api,
      token,
      plan,
      onProgress: (done) => bar?.update(done),
    });
    if (opts.credentials !== undefined) {
      writeCredentialsFile(opts.credentials, devices, opts.api);
      process.stderr.write(
        `\nWrote ${devices.length} device credentials to ${opts.credentials} (keep it private)\n`,
      );
    }
    return devices;
  } finally {
    bar?.stop();
  }
}

/** Fails fast, with advice, when the broker is down or refuses the credentials (devices would retry forever). */
async function probeBroker(url: string, device: DeviceCredential): Promise<void> {
  try {
    const client = await mqtt.connectAsync(url, {
      clientId: `${device.id}-probe`.slice(0, 64),
      username: device.id,
      password: device.password,
      reconnectPeriod: 0,
      connectTimeout: 5000,
    });
    await client.endAsync(true);
  } catch (err) {
    const code = (err as { code?: string | number }).code;
    if (code === 4 || code === 5 || code === 134 || code === 135) {
      throw new CityError(
        'GATEWAY_BAD_CREDENTIALS',
        `the broker refused device ${device.id}: the credentials file does not match this platform; delete it to provision new devices`,
      );
    }
    throw new CityError(
      'SIMULATOR_API_UNREACHABLE',
      `cannot connect to the MQTT broker at ${url} (${(err as Error).message}): is the platform running? pass --url`,
      { cause: err },
    );
  }
}

export async function runSimulateCommand(opts: SimulateCommandOptions): Promise<void> {
  const devices = await loadOrProvision(opts);
  if (devices.length === 0) throw new CityError('SIMULATOR_CREDENTIALS_INVALID', 'no devices to simulate');
  await probeBroker(opts.url, devices[0]!);
  const faults: FaultOptionsInput = {
    malformed: opts.faultMalformed,
    outOfRange: opts.faultOutOfRange,
    wrongUnit: opts.faultWrongUnit,
    duplicate: opts.faultDuplicate,
    outOfOrder: opts.faultOutOfOrder,
    late: opts.faultLate,
    lateByMs: Math.round(opts.lateBy * 1000),
    clockSkewShare: opts.faultClockSkew,
    clockSkewSec: opts.clockSkew,
    dropout: opts.faultDropout,
    dropoutMs: opts.dropoutMs,
  };
  // Logs go to stderr so that the live line and the report stay readable on stdout.
  const logger = createLogger(process.env.LOG_LEVEL ?? 'warn', pino.destination(2));
  const abort = new AbortController();
  const onSignal = (): void => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const live = process.stdout.isTTY;
  try {
    const report = await runSimulation({
      url: opts.url,
      devices,
      logger,
      qos: opts.qos,
      ratePerSec: opts.rate,
      speed: opts.speed,
      seed: opts.seed,
      faults,
      outageProbability: opts.outage,
      timezone: opts.timezone,
      connectRatePerSec: opts.connectRate,
      progressIntervalMs: live ? 1000 : 10_000,
      durationMs: opts.duration * 1000,
      signal: abort.signal,
      onProgress: (p) => {
        if (live) process.stdout.write(`\r\x1b[2K${formatProgress(p)}`);
        else process.stdout.write(`${formatProgress(p)}\n`);
      },
    });
    if (live) process.stdout.write('\n');
    process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `\n${formatReport(report)}\n`);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
