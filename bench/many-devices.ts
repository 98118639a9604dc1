import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { systemClock } from '../core/clock.ts';
import { testConfig } from '../core/config.ts';
import { createLogger, silentLogger } from '../core/logger.ts';
import { KindCatalogue } from '../devices/kind-catalogue.ts';
import { DeviceRegistry } from '../devices/registry.ts';
import { buildPlatform } from '../platform.ts';
import { LatencyHistogram } from './histogram.ts';
import { forkChild } from './ipc.ts';
import type { AckStats, DeviceLogin, RunResult } from './load-generator.ts';
import { BENCH_CONFIG_OVERRIDES } from './targets/citymetrics.ts';

/**
 * `node [--cpu-prof] --import tsx bench/many-devices.ts [--registered 20000] [--publishers 100] [--rate 5000]
 *   [--qos 0|1] [--seconds 20] [--template DIR]`
 *
 * The platform with a city of many REGISTERED devices (idle, of every kind) while a few publish at a fixed
 * rate: where an earlier build collapsed. Runs the platform in this process (so `--cpu-prof` profiles it) and
 * the load generator in a child; prints offered vs stored rate, publish→durable latency and the worst
 * event-loop delay. `--template` keeps the provisioned registry between runs (provisioning 20 000 devices
 * takes ~20 s even at a low scrypt cost).
 */

const { values: o } = parseArgs({
  options: {
    registered: { type: 'string', default: '20000' },
    publishers: { type: 'string', default: '100' },
    rate: { type: 'string', default: '5000' },
    qos: { type: 'string', default: '0' },
    seconds: { type: 'string', default: '20' },
    template: { type: 'string' },
  },
});
const registered = Number(o.registered);
const publishers = Number(o.publishers);
const rate = Number(o.rate);
const qos = Number(o.qos) as 0 | 1;
const seconds = Number(o.seconds);

const KINDS = [
  'noise-monitor',
  'water-inflow-meter',
  'water-smart-meter',
  'water-quality-sonde',
  'electricity-smart-meter',
  'electricity-feeder-meter',
  'renewable-generation-meter',
  'traffic-counter',
  'emf-probe',
  'transit-stop-display',
  'traffic-signal-controller',
  'heat-meter',
  'building-energy-meter',
  'air-quality-station',
];
/** What the formulas read, so that every KPI has devices to visit. */
const ATTRIBUTES: Record<string, Record<string, number | boolean>> = {
  'noise-monitor': { residentsExposed: 800 },
  'water-smart-meter': { residents: 3 },
  'electricity-smart-meter': { customers: 1 },
  'electricity-feeder-meter': { customersServed: 400 },
  'traffic-counter': { segmentLengthKm: 1.2, freeFlowSpeedKmh: 50 },
  'heat-meter': { residential: true, residents: 40 },
  'building-energy-meter': { publicBuilding: true, floorAreaM2: 2_000, bms: true },
};
const DISTRICTS = ['Old Town', 'Harbour', 'North', 'University', 'Riverside'];

async function provision(dir: string): Promise<DeviceLogin[]> {
  mkdirSync(dir, { recursive: true });
  const registry = DeviceRegistry.open({
    dataDir: dir,
    kinds: new KindCatalogue(),
    clock: systemClock,
    logger: silentLogger(),
    scryptCost: 1024,
  });
  const logins: DeviceLogin[] = [];
  try {
    for (let i = 0; i < registered; i += 200) {
      const batch = Array.from({ length: Math.min(200, registered - i) }, (_, k) => i + k);
      const done = await Promise.all(
        batch.map((n) =>
          registry.provision({
            kind: n < publishers ? 'air-quality-station' : KINDS[n % KINDS.length]!,
            district: DISTRICTS[n % DISTRICTS.length]!,
            id: `dev-${String(n).padStart(6, '0')}`,
            attributes: ATTRIBUTES[n < publishers ? 'air-quality-station' : KINDS[n % KINDS.length]!] ?? {},
          }),
        ),
      );
      for (const r of done)
        if (r.device.id < `dev-${String(publishers).padStart(6, '0')}`)
          logins.push({ id: r.device.id, username: r.device.id, password: r.password });
    }
  } finally {
    registry.close();
  }
  return logins;
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'cm-many-'));
  const template = o.template ?? join(work, 'template');
  let logins: DeviceLogin[];
  const loginsFile = join(template, 'logins.json');
  if (existsSync(loginsFile)) {
    logins = JSON.parse((await import('node:fs')).readFileSync(loginsFile, 'utf8')) as DeviceLogin[];
  } else {
    const t = Date.now();
    logins = await provision(template);
    (await import('node:fs')).writeFileSync(loginsFile, JSON.stringify(logins));
    console.log(`provisioned ${registered} devices in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  }
  const dataDir = join(work, 'data');
  cpSync(template, dataDir, { recursive: true });
  const config = testConfig({ dataDir, logLevel: 'warn', ...BENCH_CONFIG_OVERRIDES });
  const platform = await buildPlatform({ config, logger: createLogger(config.logLevel), clock: systemClock });
  const latency = new LatencyHistogram();
  let stored = 0;
  let windowStart = Number.POSITIVE_INFINITY;
  platform.events.on('readings', function countDurable(r) {
    const first = r.values[0];
    if (first === undefined || first.ts < windowStart) return;
    stored++;
    latency.record(Date.now() - first.ts);
  });
  const addresses = await platform.start();
  const loop = monitorEventLoopDelay({ resolution: 10 });
  const gen = forkChild('./load-generator.ts');
  try {
    await gen.call('connect', { host: '127.0.0.1', port: addresses.mqttPort, devices: logins, qos });
    // Warm-up of 3 s, then the measured window.
    const startAt = Date.now() + 200;
    const t0 = startAt + 3_000;
    const t1 = t0 + seconds * 1000;
    windowStart = t0;
    setTimeout(() => loop.enable(), t0 - Date.now()).unref();
    const cpu0 = process.cpuUsage();
    const run = await gen.call<RunResult>(
      'run',
      { rate, startAt, t0, t1, maxInflight: 100 },
      t1 - Date.now() + 60_000,
    );
    await Promise.race([platform.ingest.drain(), new Promise((r) => setTimeout(r, 5_000))]);
    loop.disable();
    const cpu = process.cpuUsage(cpu0);
    const acks = qos === 1 ? await gen.call<AckStats>('ackStats') : null;
    const wall = (Date.now() - startAt) / 1000;
    console.log(
      JSON.stringify(
        {
          registered,
          publishers,
          qos,
          offered: rate,
          windowSec: seconds,
          sent: run.sent,
          blocked: run.blocked,
          behind: run.behind,
          storedInWindowPerSec: Math.round(stored / seconds),
          storedShare: +(stored / Math.max(1, run.sent)).toFixed(3),
          acked: acks?.acked ?? null,
          latencyMs: { p50: latency.quantile(0.5), p99: latency.quantile(0.99), max: latency.quantile(1) },
          eventLoopDelayMs: {
            p99: +(loop.percentile(99) / 1e6).toFixed(1),
            max: +(loop.max / 1e6).toFixed(1),
          },
          cpuShare: +((cpu.user + cpu.system) / 1e6 / wall).toFixed(2),
          storeBacklog: platform.ingest.stats().backlog,
        },
        null,
        2,
      ),
    );
  } finally {
    await gen.call('disconnect').catch(() => {});
    await gen.close();
    await platform.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
