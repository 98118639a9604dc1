import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HAPROXY_PATH } from '../cluster/local/haproxy-server.ts';
import type { LocalCluster } from '../cluster/local/local-cluster.ts';
import { NATS_SERVER_PATH } from '../cluster/local/nats-nodes.ts';
import { POSTGRES_BIN_DIR } from '../cluster/local/postgres-server.ts';
import type { ClusterComparison, ClusterStep, ProcessGroupCpu, SystemFigures } from './cluster-report.ts';
import { LatencyHistogram } from './histogram.ts';
import { type Child, forkChild } from './ipc.ts';
import type { AckStats, DeviceLogin, RunResult } from './load-generator.ts';
import { DEFAULT_SEED, VALUES_PER_READING } from './payload.ts';
import { sampleProc } from './proc-stats.ts';
import type { StartArgs, StartedTarget, TargetReport } from './target-process.ts';

/**
 * Scenario 3's QoS 1 load (the same generator, payload, devices and in-flight cap) through a cluster on this
 * machine (2 edges, 2 writers, 1 api, 1 kpi, 3 NATS nodes, PostgreSQL, haproxy, each its own process) and
 * through the single process, one after the other in the same run, never both at once: they share the cores.
 * Each steps its offered rate up to the highest it sustains, then both are measured at half the cluster's
 * maximum, where neither queues. CPU per reading is read from /proc for each
 * process, which is what sizing a deployment starts from.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLUSTER_COUNTS = { edge: 2, writer: 2, api: 1, kpi: 1 } as const;

export interface ClusterSettings {
  primeMs: number;
  windowMs: number;
  /** at most this long for what is in flight to be acknowledged and stored after a step */
  drainMs: number;
  /** a sustained step has everything acknowledged and stored within this of the window's end */
  graceMs: number;
  /** the rate steps: start, doubled after each sustained step up to max */
  startRate: number;
  maxRate: number;
  primeRate: number;
  maxInflight: number;
}

export const CLUSTER_QUICK: ClusterSettings = {
  primeMs: 1_000,
  windowMs: 2_000,
  drainMs: 15_000,
  graceMs: 1_000,
  startRate: 125,
  maxRate: 16_000,
  primeRate: 250,
  maxInflight: 100,
};
export const CLUSTER_FULL: ClusterSettings = {
  primeMs: 5_000,
  windowMs: 10_000,
  drainMs: 60_000,
  graceMs: 2_000,
  startRate: 125,
  maxRate: 64_000,
  primeRate: 250,
  maxInflight: 100,
};

/** Debian's servers the cluster needs; each missing one is named with its package. */
export function missingClusterServers(): string[] {
  const need: Array<[string, string]> = [
    [NATS_SERVER_PATH, 'nats-server'],
    [join(POSTGRES_BIN_DIR, 'postgres'), 'postgresql'],
    [HAPROXY_PATH, 'haproxy'],
  ];
  return need
    .filter(([path]) => !existsSync(path))
    .map(([path, pkg]) => `${path} not found (apt-get install ${pkg})`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A PostgreSQL server's work is done in the backends it forks: they count with it. */
function withChildren(pid: number): number[] {
  const out = [pid];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

type Groups = Record<string, number[]>;
const cpuOf = (groups: Groups): Record<string, number> =>
  Object.fromEntries(
    Object.entries(groups).map(([g, pids]) => [
      g,
      pids.reduce((s, p) => s + (sampleProc(p)?.cpuSec ?? 0), 0),
    ]),
  );

interface System {
  /** (re)connects the generator's devices: after a failed step an edge may have cut them */
  connect(): Promise<void>;
  groups(): Groups;
  /** readings stored so far (monotonic) */
  stored(): Promise<number>;
}

async function waitInflight(gen: Child, until: number): Promise<AckStats> {
  let acks = await gen.call<AckStats>('ackStats');
  while (acks.inflight > 0 && Date.now() < until) {
    await sleep(50);
    acks = await gen.call<AckStats>('ackStats');
  }
  return acks;
}

async function measure(
  gen: Child,
  sys: System,
  rate: number,
  s: ClusterSettings,
  /** the pipeline's own store delay, measured at the priming rate */
  storeDelayMs: number,
): Promise<{ step: ClusterStep; cpu: ProcessGroupCpu[] }> {
  const groups = sys.groups();
  const storedBefore = await sys.stored();
  const ackedBefore = (await gen.call<AckStats>('ackStats')).ackedTotal;
  const startAt = Date.now() + 100;
  const t1 = startAt + s.windowMs;
  const cpuAtStart = sleep(startAt - Date.now()).then(() => cpuOf(groups));
  const run = await gen.call<RunResult>('run', {
    rate,
    startAt,
    t0: startAt,
    t1,
    maxInflight: s.maxInflight,
  });
  const cpuBefore = await cpuAtStart;
  const until = Date.now() + s.drainMs;
  const acks = await waitInflight(gen, until);
  const ackedAt = Math.max(Date.now(), t1);
  const ackedAll = acks.ackedTotal - ackedBefore;
  let stored = 0;
  for (;;) {
    stored = (await sys.stored()) - storedBefore;
    if (stored >= ackedAll || Date.now() >= until) break;
    await sleep(200);
  }
  const storedAt = Math.max(Date.now(), t1);
  const cpuAfter = cpuOf(groups);
  const puback = LatencyHistogram.fromWire(acks.puback);
  const wallSec = (storedAt - startAt) / 1000;
  const reasons: string[] = [];
  const due = (rate * s.windowMs) / 1000;
  if (acks.acked < 0.98 * due) reasons.push(`${Math.round((100 * acks.acked) / due)} % acknowledged`);
  if (acks.inflight > 0) reasons.push(`${acks.inflight} unacknowledged after the drain`);
  else if (ackedAt > t1 + s.graceMs) reasons.push(`last PUBACK ${ackedAt - t1} ms after the window`);
  if (stored < ackedAll) reasons.push(`${ackedAll - stored} acknowledged not stored after the drain`);
  else if (storedAt > t1 + storeDelayMs + s.graceMs)
    reasons.push(`stored ${storedAt - t1} ms after the window (${storeDelayMs} ms when primed)`);
  if (run.disconnected > 0) reasons.push(`${run.disconnected} devices cut off`);
  const cpu = Object.entries(groups).map(([group, pids]) => {
    const sec = (cpuAfter[group] ?? 0) - (cpuBefore[group] ?? 0);
    return {
      group,
      processes: pids.length,
      cpuUsPerReading: stored > 0 ? (sec * 1e6) / stored : Number.NaN,
      cpuPercent: (100 * sec) / wallSec,
    };
  });
  return {
    step: {
      offered: rate,
      windowMs: s.windowMs,
      ackedPerSec: acks.acked / ((ackedAt - startAt) / 1000),
      storedPerSec: stored / wallSec,
      allStored: stored >= ackedAll,
      sustained: reasons.length === 0,
      reasons,
      pubackP50Ms: puback.quantile(0.5),
      pubackP99Ms: puback.quantile(0.99),
    },
    cpu,
  };
}

/**
 * Warms both sides at a low rate and returns how long after it the last reading was stored: the pipeline's
 * own delay (a writer's fetch and batch interval), which a sustained step may add to its grace.
 */
async function prime(gen: Child, sys: System, s: ClusterSettings): Promise<number> {
  const storedBefore = await sys.stored();
  const ackedBefore = (await gen.call<AckStats>('ackStats')).ackedTotal;
  const startAt = Date.now() + 50;
  const t1 = startAt + s.primeMs;
  await gen.call('run', { rate: s.primeRate, startAt, t0: startAt, t1, maxInflight: s.maxInflight });
  const until = Date.now() + s.drainMs;
  const acked = (await waitInflight(gen, until)).ackedTotal - ackedBefore;
  while ((await sys.stored()) - storedBefore < acked && Date.now() < until) await sleep(100);
  return Math.max(0, Date.now() - t1);
}

/**
 * Doubles the offered rate from startRate while steps are sustained (every message acknowledged in time,
 * all of it stored, nobody cut off): the resolution of the maximum is a factor of 2, coarser than scenario
 * 3's bisection, because a cluster that fails a step needs its drain time before the next one.
 */
async function figures(
  gen: Child,
  sys: System,
  s: ClusterSettings,
  moderateRate: number | null,
  log: (line: string) => void,
  name: string,
): Promise<SystemFigures> {
  await sys.connect();
  let storeDelayMs = await prime(gen, sys, s);
  log(`  ${name}: stored ${storeDelayMs} ms after the priming run`);
  const steps: ClusterStep[] = [];
  let best: { step: ClusterStep; cpu: ProcessGroupCpu[] } | null = null;
  let first: ProcessGroupCpu[] = [];
  for (let rate = s.startRate; rate <= s.maxRate; rate *= 2) {
    const m = await measure(gen, sys, rate, s, storeDelayMs);
    steps.push(m.step);
    if (steps.length === 1) first = m.cpu;
    log(
      `  ${name} @ ${rate}/s: ${m.step.sustained ? 'ok' : `fail (${m.step.reasons.join('; ')})`}, ` +
        `${Math.round(m.step.ackedPerSec)} acknowledged/s, PUBACK p50 ${m.step.pubackP50Ms.toFixed(1)} ms`,
    );
    if (!m.step.sustained) break;
    best = m;
  }
  if (steps.at(-1)?.sustained === false) {
    await gen.call('disconnect');
    await sys.connect();
    storeDelayMs = await prime(gen, sys, s);
  }
  const rate = moderateRate ?? Math.round((best?.step.offered ?? s.startRate) / 2);
  const mod = rate > 0 ? await measure(gen, sys, rate, s, storeDelayMs) : null;
  if (mod !== null)
    log(
      `  ${name} latency @ ${rate}/s: PUBACK p50 ${mod.step.pubackP50Ms.toFixed(1)} ms, p99 ${mod.step.pubackP99Ms.toFixed(1)} ms`,
    );
  return { maxSustained: best?.step ?? null, moderate: mod?.step ?? null, steps, cpu: best?.cpu ?? first };
}

async function adminCall<T>(http: string, token: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${http}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(30_000),
  });
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Devices through the API, as an operator adds them (their passwords hashed at the default cost). */
async function provisionThroughApi(http: string, token: string, n: number): Promise<DeviceLogin[]> {
  const out: DeviceLogin[] = [];
  for (let i = 0; i < n; i += 5) {
    const made = await Promise.all(
      Array.from({ length: Math.min(5, n - i) }, () =>
        adminCall<{ id: string; password: string }>(http, token, 'POST', '/api/devices', {
          kind: 'air-quality-station',
          district: 'Old Town',
        }),
      ),
    );
    for (const d of made) out.push({ id: d.id, username: d.id, password: d.password });
  }
  return out;
}

/** The edges hear of new devices from PostgreSQL: a login may be refused for a moment after provisioning. */
async function connectWhenKnown(gen: Child, host: string, port: number, devices: DeviceLogin[]) {
  for (let attempt = 1; ; attempt++) {
    try {
      await gen.call('connect', { host, port, devices, qos: 1, seed: DEFAULT_SEED });
      return;
    } catch (err) {
      await gen.call('disconnect').catch(() => {});
      if (attempt >= 30) throw err;
      await sleep(1_000);
    }
  }
}

const STORED_RE = /^citymetrics_values_stored_total\{[^}]*outcome="inserted"[^}]*\}\s+(\S+)/gm;

async function writersStored(urls: readonly string[]): Promise<number> {
  let values = 0;
  for (const url of urls) {
    const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
    for (const m of text.matchAll(STORED_RE)) values += Number(m[1]);
  }
  return values / VALUES_PER_READING;
}

async function runCluster(
  gen: Child,
  devices: number,
  s: ClusterSettings,
  log: (line: string) => void,
): Promise<{ figures: SystemFigures }> {
  const { startLocalCluster } = await import('../cluster/local/local-cluster.ts');
  // Not under the bench's private work dir: PostgreSQL runs as its own user and must reach its directory.
  const dir = mkdtempSync(join(tmpdir(), 'citymetrics-bench-cluster-'));
  let cluster: LocalCluster | null = null;
  const onSigint = () => {
    void (cluster?.stop() ?? Promise.resolve()).finally(() => {
      rmSync(dir, { recursive: true, force: true });
      process.exit(130);
    });
  };
  process.once('SIGINT', onSigint);
  // The nodes' logs are kept when the cluster does not come up: they say why.
  let keepDir = false;
  try {
    const t = Date.now();
    cluster = await startLocalCluster({
      dir,
      counts: CLUSTER_COUNTS,
      cliCommand: ['--import', 'tsx', join(ROOT, 'cli.ts')],
      env: { LOG_LEVEL: 'warn', DEVICE_RATE_LIMIT_PER_SEC: '1000000' },
      onProgress: (m) => log(`  cluster: ${m}`),
    }).catch((err: unknown) => {
      keepDir = true;
      throw new Error(`the cluster did not come up: ${err instanceof Error ? err.message : String(err)}`);
    });
    const info = cluster.info;
    log(
      `  cluster up in ${((Date.now() - t) / 1000).toFixed(0)} s; provisioning ${devices} devices through the API`,
    );
    const logins = await provisionThroughApi(info.http, info.adminToken, devices);
    const mqtt = new URL(info.mqtt);
    const writers = info.nodes.filter((n) => n.role === 'writer').map((n) => n.http);
    const sys: System = {
      connect: () => connectWhenKnown(gen, mqtt.hostname, Number(mqtt.port), logins),
      groups() {
        const g: Groups = {};
        for (const [key, pids] of Object.entries(info.processes))
          g[key] = key === 'postgres' ? pids.flatMap(withChildren) : pids;
        return g;
      },
      stored: () => writersStored(writers),
    };
    const f = await figures(gen, sys, s, null, log, 'cluster');
    await gen.call('disconnect');
    return { figures: f };
  } finally {
    process.off('SIGINT', onSigint);
    await gen.call('disconnect').catch(() => {});
    await (cluster as LocalCluster | null)?.stop();
    if (!keepDir) rmSync(dir, { recursive: true, force: true });
  }
}

async function runSingle(
  gen: Child,
  setup: { devices: number; logins: DeviceLogin[]; registryTemplate: string; workDir: string },
  s: ClusterSettings,
  moderateRate: number | null,
  log: (line: string) => void,
): Promise<SystemFigures> {
  const target = forkChild('./target-process.ts', ['--expose-gc']);
  try {
    const args: StartArgs = {
      kind: 'citymetrics',
      qos: 1,
      devices: setup.devices,
      dataDir: mkdtempSync(join(setup.workDir, 'cluster-single-')),
      registryTemplate: setup.registryTemplate,
      logins: setup.logins,
    };
    const started = await target.call<StartedTarget>('start', args);
    const sys: System = {
      connect: () =>
        gen.call('connect', {
          host: started.host,
          port: started.port,
          devices: started.devices,
          qos: 1,
          seed: DEFAULT_SEED,
        }),
      groups: () => ({ single: started.pids }),
      async stored() {
        const r = await target.call<TargetReport>('report');
        return r.totalMessages - r.storeBacklog / VALUES_PER_READING;
      },
    };
    return await figures(gen, sys, s, moderateRate, log, 'single process');
  } finally {
    await gen.call('disconnect').catch(() => {});
    await target.call('stop').catch(() => {});
    await target.close();
  }
}

/** The cluster first (half its maximum is the rate of both latency steps), then the single process. */
export async function runClusterComparison(
  gen: Child,
  setup: { devices: number; logins: DeviceLogin[]; registryTemplate: string; workDir: string },
  s: ClusterSettings,
  log: (line: string) => void,
): Promise<ClusterComparison> {
  const cluster = await runCluster(gen, setup.devices, s, log);
  const moderate = cluster.figures.moderate?.offered ?? null;
  const single = await runSingle(gen, setup, s, moderate, log);
  return {
    counts: { ...CLUSTER_COUNTS, nats: 3, postgres: 1, haproxy: 1 },
    single,
    cluster: cluster.figures,
    throughputRatio:
      single.maxSustained !== null && cluster.figures.maxSustained !== null
        ? cluster.figures.maxSustained.offered / single.maxSustained.offered
        : null,
  };
}
