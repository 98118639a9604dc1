/**
 * Soak: `npm run soak -- --minutes N [--devices 200] [--rate 400] [--no-kill]`.
 *
 * Runs the platform as a real process on a fresh data directory, provisions a simulated city, and drives
 * it with the simulators' fault injection (malformed, out-of-range and wrong-unit readings, duplicates,
 * out-of-order and late readings, skewed clocks, connection drop-outs) for N minutes. Half-way it kills the
 * platform with SIGKILL and restarts it (unless --no-kill): devices back off, buffer and back-fill. At the
 * end it prints published / acknowledged / stored / refused-by-reason counts and the platform's peak
 * memory, and exits 1 if a reading the platform accepted is missing from the store.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Command } from 'commander';
import { ApiClient } from '../core/api-client.ts';
import { silentLogger } from '../core/logger.ts';
import { planCity } from '../simulators/city-plan.ts';
import { provisionDevices } from '../simulators/credentials.ts';
import { Simulation } from '../simulators/simulation.ts';
import { freePorts, PlatformProcess } from '../test/reliability/platform-process.ts';
import { scrape } from './load-phase.ts';

const opts = new Command()
  .option('--minutes <n>', 'how long', Number, 2)
  .option('--devices <n>', 'simulated devices', Number, 200)
  .option('--rate <n>', 'readings per second across the fleet', Number, 400)
  .option('--no-kill', 'do not SIGKILL the platform half-way')
  .option('--keep', 'keep the data directory')
  .parse()
  .opts<{ minutes: number; devices: number; rate: number; kill: boolean; keep?: boolean }>();

const durationMs = Math.round(opts.minutes * 60_000);
const dataDir = mkdtempSync(join(tmpdir(), 'citymetrics-soak-'));
const platform = new PlatformProcess(dataDir, await freePorts());
const mb = (bytes: number) => `${(bytes / 1048576).toFixed(0)} MB`;

let rssPeak = 0;
let scrapes = 0;
let watching = true;
const watch = (async () => {
  while (watching) {
    try {
      const s = await scrape(platform.httpUrl);
      rssPeak = Math.max(rssPeak, s.rss);
      scrapes++;
    } catch {
      // down (the kill) or busy: the next scrape tells
    }
    await new Promise((r) => setTimeout(r, 1_000));
  }
})();

console.log(
  `soak: ${opts.minutes} min, ${opts.devices} devices, ${opts.rate} readings/s, data in ${dataDir}`,
);
await platform.start();
const plan = planCity({
  devices: opts.devices,
  districts: ['Old Town', 'Riverside', 'Harbour', 'University', 'Northgate'],
  seed: 7,
});
const devices = await provisionDevices({
  client: new ApiClient({ baseUrl: platform.httpUrl, token: platform.adminToken }),
  plan,
  concurrency: 8,
});
const simulation = new Simulation({
  url: platform.mqttUrl,
  devices,
  logger: silentLogger(),
  qos: 1,
  ratePerSec: opts.rate,
  seed: 7,
  faults: {
    malformed: 0.002,
    outOfRange: 0.002,
    wrongUnit: 0.002,
    duplicate: 0.01,
    outOfOrder: 0.01,
    late: 0.005,
    clockSkewShare: 0.02,
    dropout: 0.0005,
    dropoutMs: 3_000,
  },
  backoff: { initialMs: 200, maxMs: 5_000 },
  bufferLimit: 5_000,
  progressIntervalMs: 10_000,
});
simulation.on('progress', (p) =>
  console.log(
    `  ${Math.round(p.elapsedMs / 1000)} s: published ${p.published}, acknowledged ${p.acknowledged}, ` +
      `buffered ${p.buffered}, connected ${p.connected}/${p.devices}, ${Math.round(p.currentRatePerSec)}/s`,
  ),
);
await simulation.start();

let kills = 0;
await new Promise((r) => setTimeout(r, durationMs / 2));
if (opts.kill) {
  console.log('  SIGKILL: the platform is killed and restarted');
  await platform.kill('SIGKILL');
  kills++;
  await platform.start();
}
await new Promise((r) => setTimeout(r, durationMs / 2));

const report = await simulation.stop();
for (;;) {
  const s = await scrape(platform.httpUrl);
  if (s.backlog === 0) break;
  await new Promise((r) => setTimeout(r, 100));
}
const stats = (
  await platform.api<{
    accepted: { messages: number; readings: number; values: number };
    refused: { total: number; byReason: Record<string, number> };
    stored: { inserted: number; duplicates: number; revisions: number };
  }>('GET', '/api/ingest/stats')
).body;
watching = false;
await watch;
const exit = await platform.kill('SIGTERM');

// What the store holds, and whether every value the durable log holds (all that was acknowledged as
// accepted, across the kill) reached it.
const log = new Database(join(dataDir, 'log.db'), { readonly: true });
const logDistinct = log
  .prepare('SELECT count(*) FROM (SELECT DISTINCT device_id, metric, ts FROM log_values)')
  .pluck()
  .get() as number;
log.close();
const series = new Database(join(dataDir, 'series.db'), { readonly: true });
const storedValues = series
  .prepare(
    "SELECT count(*) FROM points JOIN series ON series.id = points.series_id WHERE series.scope = 'device'",
  )
  .pluck()
  .get() as number;
series.close();

const byReason = Object.entries(report.refused).sort(([, a], [, b]) => b - a);
console.log(`
soak result (${opts.minutes} min, ${opts.devices} devices, target ${opts.rate} readings/s, ${kills} SIGKILL restart${kills === 1 ? '' : 's'})
  readings generated        ${report.generated}
  readings published        ${report.published} (${report.messages} messages, ${report.backfilled} back-filled)
  readings acknowledged     ${report.acknowledged}
  dropped by device buffers ${report.dropped}
  accepted by the platform  ${stats.accepted.readings} readings / ${stats.accepted.values} values (since the last start)
  values in the durable log ${logDistinct} distinct
  values stored             ${storedValues}
  refused, by reason        ${byReason.map(([code, n]) => `${code} ${n}`).join(', ') || 'none'}
  expected refusals         ${
    Object.entries(report.expectedRefusals)
      .map(([c, n]) => `${c} ${n}`)
      .join(', ') || 'none'
  }
  platform peak RSS         ${mb(rssPeak)} (${scrapes} samples)
  graceful stop             exit ${exit.code}
  missing from the store    ${logDistinct - storedValues}`);
if (!opts.keep) rmSync(dataDir, { recursive: true, force: true });
process.exit(logDistinct === storedValues && exit.code === 0 ? 0 : 1);
