/**
 * Overload: `npm run overload -- [--seconds 60] [--devices 100] [--window 100]`.
 *
 * 1. probe: devices offer QoS 1 readings as fast as their windows allow for 10 s; the platform's accepted
 *    rate is its sustainable rate R on this machine;
 * 2. overload: the offered rate is paced at 2 × R for --seconds; what the windows hold back is the
 *    platform's backpressure ("blocked");
 * 3. recovery: the offered rate drops to R / 2 for 10 s; it must all be accepted at once.
 * Each second it samples the platform's accepted rate, backlog, refusals and RSS; at the end it checks that
 * every acknowledged reading is stored, and exits 1 if one is missing or the platform collapsed (its accepted
 * rate under overload below half of R).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { freePorts, PlatformProcess } from '../test/reliability/platform-process.ts';
import { readStored } from '../test/reliability/stored-readings.ts';
import {
  connectLoad,
  type LoadClients,
  type LoadDevice,
  type PhaseOptions,
  runPhase,
  scrape,
} from './load-phase.ts';

const opts = new Command()
  .option('--seconds <n>', 'length of the overload phase', Number, 60)
  .option('--devices <n>', 'devices offering load', Number, 100)
  .option('--window <n>', 'QoS 1 messages awaiting PUBACK per device', Number, 100)
  .parse()
  .opts<{ seconds: number; devices: number; window: number }>();

const dataDir = mkdtempSync(join(tmpdir(), 'citymetrics-overload-'));
const platform = new PlatformProcess(dataDir, await freePorts(), {
  DEVICE_RATE_LIMIT_PER_SEC: '1000000',
  INGEST_MAX_BACKLOG_VALUES: '50000',
});
await platform.start();
const devices: LoadDevice[] = [];
for (let i = 0; i < opts.devices; i++)
  devices.push(
    (await platform.api<LoadDevice>('POST', '/api/devices', { kind: 'noise-monitor', district: `D${i % 5}` }))
      .body,
  );
const load: LoadClients = await connectLoad(platform.mqttUrl, devices);
const base = Date.now() - 5 * 86_400_000;
const tsOf = (seq: number) => base + seq * 5;
const mb = (bytes: number) => `${(bytes / 1048576).toFixed(0)} MB`;

interface Sample {
  phase: string;
  t: number;
  acceptedPerSec: number;
  backlog: number;
  refused: number;
  rss: number;
}
const samples: Sample[] = [];
let phase = 'probe';
let watching = true;
const watch = (async () => {
  let prev = await scrape(platform.httpUrl);
  let prevAt = performance.now();
  while (watching) {
    await new Promise((r) => setTimeout(r, 1_000));
    const s = await scrape(platform.httpUrl);
    const now = performance.now();
    samples.push({
      phase,
      t: Math.round(now / 1000),
      acceptedPerSec: ((s.accepted - prev.accepted) * 1000) / (now - prevAt),
      backlog: s.backlog,
      refused: s.refused,
      rss: s.rss,
    });
    prev = s;
    prevAt = now;
  }
})();

const run = async (name: string, o: Omit<PhaseOptions, 'tsOf' | 'window'>) => {
  phase = name;
  const r = await runPhase(load, { ...o, window: opts.window, tsOf });
  console.log(
    `${name}: offered ${r.offered} in ${(r.durationMs / 1000).toFixed(0)} s (${Math.round((r.offered * 1000) / r.durationMs)}/s), ` +
      `published ${r.published}, acknowledged ${r.acked}, held back by backpressure ${r.blocked}`,
  );
  return r;
};

const mean = (xs: number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);
await run('probe', { ratePerSec: 0, durationMs: 10_000 });
// The first seconds warm up (JIT, page cache): the sustainable rate is the mean of the later ones.
const sustainable = mean(
  samples
    .filter((s) => s.phase === 'probe')
    .slice(3)
    .map((s) => s.acceptedPerSec),
);
console.log(`sustainable rate R ≈ ${Math.round(sustainable)} readings/s`);
await run('overload', { ratePerSec: Math.round(2 * sustainable), durationMs: opts.seconds * 1_000 });
const recovery = await run('recovery', { ratePerSec: Math.round(sustainable / 2), durationMs: 10_000 });
watching = false;
await watch;
while (load.clients.some((c) => c.inFlight > 0)) await new Promise((r) => setTimeout(r, 50));
while ((await scrape(platform.httpUrl)).backlog > 0) await new Promise((r) => setTimeout(r, 100));
await load.close();
const exit = await platform.kill('SIGTERM');

const stored = readStored(dataDir, 'laeq');
let acked = 0;
let lost = 0;
for (const c of load.clients) {
  const have = new Set(stored.points.get(c.device.id) ?? []);
  for (const seq of c.acked) {
    acked++;
    if (!have.has(tsOf(seq))) lost++;
  }
}
const over = samples.filter((s) => s.phase === 'overload');
const rec = samples.filter((s) => s.phase === 'recovery');
const overRates = over.map((s) => s.acceptedPerSec).sort((a, b) => a - b);
const p10 = overRates[Math.floor(overRates.length * 0.1)] ?? 0;
console.log(`
overload result (${opts.devices} devices, window ${opts.window}, ${opts.seconds} s at 2 × R)
  sustainable rate R          ${Math.round(sustainable)}/s
  accepted under overload     mean ${Math.round(mean(overRates))}/s, 10th percentile ${Math.round(p10)}/s, min ${Math.round(overRates[0] ?? 0)}/s
  accepted in recovery        mean ${Math.round(mean(rec.map((s) => s.acceptedPerSec)))}/s for ${Math.round((recovery.offered * 1000) / recovery.durationMs)}/s offered, first second ${Math.round(rec[0]?.acceptedPerSec ?? 0)}/s
  backlog peak                ${Math.max(0, ...samples.map((s) => s.backlog))} values
  refused (counted)           ${samples.at(-1)?.refused ?? 0}
  platform RSS peak           ${mb(Math.max(0, ...samples.map((s) => s.rss)))}
  acknowledged / lost         ${acked} / ${lost}
  graceful stop               exit ${exit.code}`);
rmSync(dataDir, { recursive: true, force: true });
const collapsed = mean(overRates) < sustainable / 2;
process.exit(lost === 0 && !collapsed && exit.code === 0 ? 0 : 1);
