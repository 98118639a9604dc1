import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { ClusterComparison } from './cluster-report.ts';
import { type ConnectionsResult, openFileLimit, runConnections } from './connections.ts';
import { describeDisk, probeDisk } from './disk-probe.ts';
import { closeAllChildren, forkChild } from './ipc.ts';
import type { DeviceLogin } from './load-generator.ts';
import { buildPayload, DEFAULT_SEED, VALUES_PER_READING, valuePool } from './payload.ts';
import { runPeriods } from './periods.ts';
import { type BenchResults, evaluate, renderMarkdown } from './report.ts';
import { SUSTAINED_DEFINITION } from './stepping.ts';
import { provisionDevices } from './targets/citymetrics.ts';
import { MOSQUITTO_BIN, mosquittoAvailable } from './targets/mosquitto.ts';
import type { TargetKind } from './targets/target.ts';
import { runThroughput, type ThroughputResult, type ThroughputSettings } from './throughput.ts';

/**
 * `npm run bench [-- --quick] [-- --only aedes,mosquitto,citymetrics,connections,periods,cluster] [-- --qos 0|1]
 *   [-- --cluster] [-- --compare <git-rev> [--rounds N]]`
 *
 * The side-by-side benchmark (bench/README.md): each system under test in its own process, the load
 * generator in another, on loopback; prints a markdown table and writes bench/results/<timestamp>.json.
 * It never fails on speed: the figures are for people to judge.
 */

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    qos: { type: 'string' },
    devices: { type: 'string' },
    cluster: { type: 'boolean', default: false },
    compare: { type: 'string' },
    rounds: { type: 'string' },
  },
  allowPositionals: false,
});

const quick = opts.quick === true;
const only = new Set((opts.only ?? 'aedes,mosquitto,citymetrics,connections,periods').split(','));
if (opts.cluster === true) only.add('cluster');
const qosLevels = (opts.qos ?? '0,1').split(',').map(Number) as Array<0 | 1>;
const devices = Number(opts.devices ?? 100);

const workDir = mkdtempSync(join(tmpdir(), 'citymetrics-bench-'));
const settings: ThroughputSettings = quick
  ? {
      freshProcessPerRestart: false,
      primeMs: 300,
      warmupMs: 200,
      windowMs: 500,
      drainMs: 800,
      latencyWindowMs: 500,
      profileWindowMs: 3_000,
      plan: { startRate: 5_000, maxRate: 20_000, factor: 4, bisections: 0, granularity: 500 },
      devices,
      maxInflight: 100,
      seed: DEFAULT_SEED,
      workDir,
    }
  : {
      freshProcessPerRestart: true,
      primeMs: 2_000,
      warmupMs: 2_000,
      windowMs: 5_000,
      drainMs: 5_000,
      latencyWindowMs: 8_000,
      profileWindowMs: 10_000,
      plan: { startRate: 2_500, maxRate: 320_000, factor: 2, bisections: 3, granularity: 250 },
      devices,
      maxInflight: 100,
      seed: DEFAULT_SEED,
      workDir,
    };
// Quick: 2 000, not fewer: below that, V8 growing its heap by whole pages makes RSS ÷ connections noise.
const connectionCounts = quick ? [2_000] : [10_000, 50_000];

const log = (line: string) => process.stdout.write(`${line}\n`);

/** A scenario's failure, carrying its name so that the run's last line says which one broke. */
class ScenarioFailed extends Error {
  constructor(
    readonly scenario: string,
    cause: unknown,
  ) {
    super(`scenario ${scenario} failed: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
  }
}

async function scenario<T>(name: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw new ScenarioFailed(name, err);
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGb: totalmem() / 2 ** 30,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
  };
  const disk = probeDisk(workDir, quick ? { fsyncs: 50, writeMib: 16 } : { fsyncs: 200, writeMib: 128 });
  log(
    `citymetrics bench (${quick ? 'quick' : 'full'}): ${machine.cpus} cores, ${machine.memoryGb.toFixed(1)} GB, Node ${machine.node}`,
  );
  log(describeDisk(disk));
  log(SUSTAINED_DEFINITION);

  // Two registries: the throughput scenarios see a city of exactly the publishing devices; the connection
  // scenario needs one login per connection. (The registry's size is a variable of its own: keep it fixed.)
  const template = join(workDir, 'registry-publishers');
  const connTemplate = join(workDir, 'registry-connections');
  let logins: DeviceLogin[] = [];
  let connLogins: DeviceLogin[] = [];
  const provision = async (dir: string, n: number) => {
    const t = Date.now();
    const made = await provisionDevices(dir, n);
    log(
      `provisioned ${n} citymetrics devices in ${((Date.now() - t) / 1000).toFixed(1)} s (low scrypt cost: logins only)`,
    );
    return made;
  };
  if (only.has('citymetrics') || only.has('cluster')) logins = await provision(template, devices);
  if (only.has('connections')) {
    // 50 000 requested connections cannot all exist here if the open-file limit is lower: provision what fits.
    const limit = openFileLimit();
    const wanted = Math.max(...connectionCounts);
    connLogins = await provision(
      connTemplate,
      Number.isFinite(limit) ? Math.min(wanted, limit - 1_000) : wanted,
    );
  }

  const throughput: ThroughputResult[] = [];
  // One generator process for every scenario: the same code, equally warm, drives each system.
  const gen = forkChild('./load-generator.ts');
  const skipped: BenchResults['skipped'] = [];
  for (const kind of ['aedes', 'mosquitto', 'citymetrics'] as TargetKind[]) {
    if (!only.has(kind)) continue;
    if (kind === 'mosquitto' && !mosquittoAvailable()) {
      const reason = `${MOSQUITTO_BIN} not found (apt-get install mosquitto to include the baseline)`;
      log(`scenario 2 skipped: ${reason}`);
      skipped.push({ scenario: kind, reason });
      continue;
    }
    // Quick runs build each QoS level's instance in one process per system: a process start costs seconds.
    const sharedTarget = quick ? forkChild('./target-process.ts', ['--expose-gc']) : undefined;
    for (const qos of qosLevels) {
      log(`scenario ${kind}, QoS ${qos}`);
      const setup =
        kind === 'citymetrics' ? { logins: logins.slice(0, devices), registryTemplate: template } : {};
      const t = Date.now();
      throughput.push(
        await scenario(`${kind} QoS ${qos}`, () =>
          runThroughput(kind, qos, settings, setup, log, gen, sharedTarget),
        ),
      );
      log(`  (${((Date.now() - t) / 1000).toFixed(1)} s)`);
    }
    await sharedTarget?.close();
  }
  let cluster: ClusterComparison | null = null;
  if (only.has('cluster')) {
    const { CLUSTER_FULL, CLUSTER_QUICK, missingClusterServers, runClusterComparison } = await import(
      './cluster-scenario.ts'
    );
    const missing = missingClusterServers();
    if (missing.length > 0) {
      const reason = missing.join('; ');
      log(`cluster scenario skipped: ${reason}`);
      skipped.push({ scenario: 'cluster', reason });
    } else {
      log('scenario cluster vs single process, QoS 1');
      const t = Date.now();
      // A cluster that cannot start here (a role too slow to load on a busy machine) is reported, not fatal.
      cluster = await runClusterComparison(
        gen,
        { devices, logins, registryTemplate: template, workDir },
        quick ? CLUSTER_QUICK : CLUSTER_FULL,
        log,
      ).catch((err: unknown) => {
        const reason = err instanceof Error ? err.message : String(err);
        log(`cluster scenario failed: ${reason}`);
        skipped.push({ scenario: 'cluster', reason });
        return null;
      });
      log(`  (${((Date.now() - t) / 1000).toFixed(1)} s)`);
    }
  }
  await gen.close();

  const connections: ConnectionsResult[] = [];
  if (only.has('connections')) {
    log('connections: RSS per idle device connection');
    connections.push(
      await scenario('connections citymetrics', () =>
        runConnections(
          'citymetrics',
          connectionCounts,
          { workDir, logins: connLogins, registryTemplate: connTemplate },
          log,
        ),
      ),
    );
    // The same measurement on bare aedes tells the broker's share from ours (full runs only: it takes time).
    if (!quick)
      connections.push(
        await scenario('connections aedes', () =>
          runConnections('aedes', connectionCounts, { workDir }, log),
        ),
      );
  }
  const periods = only.has('periods')
    ? await scenario('periods', () => runPeriods(log, { hoursBetweenPoints: quick ? 24 : 12 }))
    : null;

  const { ratios, targets } = evaluate(throughput, connections);
  const sample = buildPayload(valuePool(DEFAULT_SEED), Date.now(), 123_456);
  const results: BenchResults = {
    startedAt: new Date(started).toISOString(),
    durationSec: (Date.now() - started) / 1000,
    mode: quick ? 'quick' : 'full',
    machine: { ...machine, disk },
    settings: {
      ...settings,
      workDir: undefined,
      payloadBytes: Buffer.byteLength(sample),
      samplePayload: sample,
      valuesPerReading: VALUES_PER_READING,
      connectionCounts,
      citymetricsConfig:
        'npm start defaults; deviceRateLimitPerSec raised to 1 000 000 (100 devices stand in for a city)',
    },
    sustainedDefinition: SUSTAINED_DEFINITION,
    throughput,
    skipped,
    connections,
    periods,
    cluster,
    ratios,
    targets,
  };
  const dir = fileURLToPath(new URL('./results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${results.startedAt.replace(/[:.]/g, '-')}${quick ? '-quick' : ''}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  log('');
  log(renderMarkdown(results));
  log('');
  log(`results: ${file}`);
}

/** `--compare <rev>`: this process only orchestrates; each build runs the bench in a child of its own. */
function withoutCompareOptions(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--compare' || a === '--rounds') i++;
    else if (!a.startsWith('--compare=') && !a.startsWith('--rounds=')) out.push(a);
  }
  return out;
}

if (opts.compare !== undefined) {
  rmSync(workDir, { recursive: true, force: true });
  const rounds = Number(opts.rounds ?? 3);
  import('./compare.ts')
    .then(({ runCompare }) =>
      runCompare(
        opts.compare!,
        Number.isInteger(rounds) && rounds > 0 ? rounds : 3,
        withoutCompareOptions(process.argv.slice(2)),
        log,
      ),
    )
    .catch((err: unknown) => {
      process.stderr.write(`bench --compare failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    });
} else {
  main().then(
    () => rmSync(workDir, { recursive: true, force: true }),
    async (err: unknown) => {
      const cause = err instanceof ScenarioFailed ? err.cause : err;
      process.stderr.write(
        `bench failed: ${err instanceof ScenarioFailed ? `${err.message}\n` : ''}` +
          `${cause instanceof Error ? (cause.stack ?? cause.message) : String(cause)}\n`,
      );
      // The load generator and the systems under test of the scenario that threw are still running.
      await closeAllChildren();
      rmSync(workDir, { recursive: true, force: true });
      // Exits at once: a timer or socket a rejected scenario left open must not keep a CI run waiting.
      process.exit(1);
    },
  );
}
