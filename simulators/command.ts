import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { ApiClient, defaultApiUrl, defaultMqttUrl } from '../core/api-client.ts';
import { isValidTimeZone } from '../core/city-calendar.ts';
import { httpUrl } from '../core/cli-options.ts';
import { defaultFix } from '../core/error-fixes.ts';
import { CityError } from '../core/errors.ts';
import { createLogger } from '../core/logger.ts';
import { progressBar } from '../core/progress-bar.ts';
import { planCity } from './city-plan.ts';
import type { DeviceCredential } from './credentials.ts';
import type { FaultOptionsInput } from './faults.ts';
import { defaultFleetFile, loadFleet } from './fleet.ts';
import { formatProgress, formatRate, formatReport } from './report-format.ts';
import { runSimulation } from './simulation.ts';

export const DEFAULT_DISTRICTS = ['Old Town', 'Riverside', 'Harbour', 'University', 'Northgate'];

export interface SimulateCommandOptions {
  url: string;
  api: string;
  token?: string;
  fleet?: string;
  credentials?: string;
  devices: number;
  rate?: number;
  speed?: number;
  qos: '0' | '1';
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
    .option(
      '--url <mqtt url>',
      'MQTT broker, mqtt:// or ws:// (default localhost on MQTT_PORT)',
      brokerUrl,
      defaultMqttUrl(),
    )
    .option(
      '--api <http url>',
      'platform API, to check and provision the fleet (default CITYMETRICS_API, else localhost on HTTP_PORT)',
      httpUrl,
      defaultApiUrl(),
    )
    .option('--token <admin key>', 'admin API key (or CITYMETRICS_TOKEN)')
    .option(
      '--fleet <file>',
      'the fleet\u2019s device credentials, kept between runs (default DATA_DIR/simulator-fleet.json)',
    )
    .addOption(new Option('--credentials <file>', 'same as --fleet').hideHelp())
    .option('--devices <n>', 'devices in the fleet', wholeNumber(1, 100_000), 100)
    .option('--rate <readings/s>', 'total readings per second across the fleet', positive)
    .option(
      '--speed <x>',
      'report this many times faster than the kinds\u2019 intervals (default 1: the real intervals)',
      positive,
    )
    .addOption(new Option('--qos <level>', 'MQTT QoS of readings').choices(['0', '1']).default('1'))
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

/**
 * How far before now the devices' readings can be stamped: the late and clock-skew faults send readings
 * from before the run, and a reading before its device's installation is refused, so a fleet provisioned
 * now is installed that long ago (plus a minute for clocks that differ); without those faults, a minute.
 */
export function lookBackMs(
  opts: Pick<SimulateCommandOptions, 'faultLate' | 'lateBy' | 'faultClockSkew' | 'clockSkew'>,
): number {
  const late = opts.faultLate > 0 ? opts.lateBy : 0;
  const skew = opts.faultClockSkew > 0 && opts.clockSkew < 0 ? -opts.clockSkew : 0;
  return (Math.max(late, skew) + 60) * 1000;
}

/** The fleet of the fleet file, checked against the platform; only missing devices are provisioned. */
async function fleetFor(opts: SimulateCommandOptions): Promise<DeviceCredential[]> {
  const file = opts.fleet ?? opts.credentials ?? defaultFleetFile();
  const token = opts.token ?? process.env.CITYMETRICS_TOKEN;
  const client = token ? new ApiClient({ baseUrl: opts.api, token }) : null;
  mkdirSync(dirname(file), { recursive: true });
  const bar = progressBar('provisioning |{bar}| {value}/{total}');
  let started = false;
  try {
    const fleet = await loadFleet({
      file,
      devices: opts.devices,
      client,
      plan: () => planCity({ devices: opts.devices, districts: opts.districts, seed: opts.seed }),
      installedAt: Date.now() - lookBackMs(opts),
      onProgress: (done, total) => {
        if (!started) bar.start(total);
        started = true;
        bar.update(done);
      },
    });
    bar.stop();
    const provisioned = fleet.replaced + fleet.added;
    process.stderr.write(
      `Fleet ${file}: ${fleet.devices.length} devices, ${fleet.reused} reused${client === null ? ' (not checked: no --token)' : ''}, ` +
        `${provisioned} provisioned${fleet.replaced > 0 ? ` (${fleet.replaced} no longer on the platform)` : ''}\n`,
    );
    return fleet.devices;
  } finally {
    bar.stop();
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
        `the broker refused device ${device.id}: the fleet file does not match this platform`,
        { fix: defaultFix('GATEWAY_BAD_CREDENTIALS') },
      );
    }
    throw new CityError(
      'SIMULATOR_API_UNREACHABLE',
      `cannot connect to the MQTT broker at ${url} (${(err as Error).message})`,
      { cause: err, fix: 'start the platform (citymetrics start) or point at its broker with --url' },
    );
  }
}

export async function runSimulateCommand(opts: SimulateCommandOptions): Promise<void> {
  const devices = await fleetFor(opts);
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
      qos: opts.qos === '0' ? 0 : 1,
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
      onStart: (targetRatePerSec) => {
        process.stderr.write(
          `Target ${formatRate(targetRatePerSec)} readings/s: ${devices.length} devices at their kinds' reporting intervals${opts.rate === undefined ? ` \u00f7 speed ${opts.speed ?? 1}` : ` scaled to --rate ${opts.rate}`}\n`,
        );
      },
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
