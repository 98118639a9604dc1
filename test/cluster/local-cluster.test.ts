import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClusterInfo, type LocalCluster, startLocalCluster } from '../../cluster/local/local-cluster.ts';
import { makeTempDir, type TempDir } from '../helpers/temp-dir.ts';
import { ROOT } from '../reliability/platform-process.ts';
import { natsServerBinary } from '../servers/nats.ts';
import { postgresBinDir } from '../servers/postgres.ts';
import { findServerBinary } from '../servers/process-server.ts';
import { expectStoredOnce, loadStart, provisionDevices, startLoad } from './device-load.ts';
import { until } from './role-process.ts';

/**
 * `citymetrics cluster` as a user runs it (a child process, what it says in cluster.json), and broken the
 * way machines break: under QoS 1 load from many devices connected through haproxy, an edge is killed
 * with SIGKILL. The devices reconnect through haproxy to the other edge and resend what was not
 * acknowledged; at the end every acknowledged reading is stored once, and the roll-ups agree with a
 * recount of the raw points.
 */

const haproxy = findServerBinary('/usr/sbin/haproxy', 'haproxy');
const ready = natsServerBinary() !== null && postgresBinDir() !== null && haproxy !== null;

const DEVICES = 12;

let dir: TempDir;
let launcher: ChildProcess;
let exited: Promise<number | null>;
let info: ClusterInfo;
let output = '';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

beforeAll(async () => {
  if (!ready) return;
  dir = makeTempDir('cm-local-cluster-');
  launcher = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(ROOT, 'cli.ts'),
      'cluster',
      '--dir',
      dir.path,
      '--edges',
      '2',
      '--writers',
      '2',
      '--kpis',
      '1',
      '--apis',
      '1',
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'warn' } },
  );
  launcher.stdout?.on('data', (c: Buffer) => {
    output += c.toString('utf8');
  });
  launcher.stderr?.on('data', (c: Buffer) => {
    output += c.toString('utf8');
  });
  exited = new Promise((resolve) => launcher.once('exit', (code) => resolve(code)));
  const file = join(dir.path, 'cluster.json');
  await until('cluster.json', () => existsSync(file) || launcher.exitCode !== null, 240_000).catch(() => {
    throw new Error(`the cluster did not come up:\n${output}`);
  });
  if (!existsSync(file)) throw new Error(`the cluster did not come up:\n${output}`);
  info = JSON.parse(readFileSync(file, 'utf8')) as ClusterInfo;
}, 300_000);

afterAll(async () => {
  if (launcher !== undefined && launcher.exitCode === null) {
    launcher.kill('SIGKILL');
    for (const pids of Object.values(info?.processes ?? {}))
      for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  }
  dir?.remove();
});

describe.skipIf(!ready)('npm run cluster: a whole cluster on one machine, broken on purpose', () => {
  it('says where everything is in cluster.json, and every node is ready behind haproxy', async () => {
    expect(info.api).toHaveLength(1);
    expect(info.mqtt).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
    expect(info.adminToken.length).toBeGreaterThan(20);
    expect(info.processes.edge).toHaveLength(2);
    expect(info.processes.writer).toHaveLength(2);
    expect(info.processes.kpi).toHaveLength(1);
    expect(info.processes.nats).toHaveLength(3);
    expect(output).toContain(info.adminToken);
    for (const n of info.nodes) {
      const res = await fetch(`${n.http}/readyz`);
      expect(res.status, n.name).toBe(200);
    }
    // haproxy's own view: both edges up once they have passed two checks
    await until('haproxy to see both edges up', async () => {
      const stats = await (await fetch(`${info.haproxyStats};csv`)).text();
      return ['edge-1', 'edge-2'].every((e) => new RegExp(`^edges,${e},.*,UP,`, 'm').test(stats));
    });
  });

  it('kill -9 an edge under QoS 1 load: devices reconnect through haproxy, every acknowledged reading is stored once', async () => {
    const devices = await provisionDevices(info, DEVICES);
    const start = loadStart();
    const load = await startLoad(info, devices, start);
    await until('load flowing', () => load.acked() > 200, 60_000);
    const victim = info.nodes.find((n) => n.name === 'edge-1')!;
    process.kill(victim.pid!, 'SIGKILL');
    const atKill = load.acked();
    // Readings keep being acknowledged after the kill: through the other edge.
    await until('acknowledgements after the kill', () => load.acked() > atKill + 300, 90_000);
    const reconnects = load.reconnects();
    const acked = await load.stop();
    expect(reconnects).toBeGreaterThan(0);
    expect(load.refusals(), 'readings refused for good').toEqual({});
    await expectStoredOnce(info, acked, start);
  }, 300_000);

  it('Ctrl-C stops every process it started', async () => {
    launcher.kill('SIGINT');
    expect(await exited).toBe(0);
    for (const [role, pids] of Object.entries(info.processes))
      for (const pid of pids) expect(alive(pid), `${role} ${pid}`).toBe(false);
  }, 120_000);
});

/**
 * The engines under the cluster going away while devices publish through haproxy: PostgreSQL restarted
 * (the writers cannot write, the edges keep acknowledging into JetStream), and one NATS node of three
 * stopped for 30 s (the stream keeps its quorum). Each ends with every acknowledged reading stored once.
 */
// ---- the engines under the cluster going away (an in-process cluster, whose servers the test controls);
// in this file, after the one above, so that two clusters never share the machine's cores ----

let outagesDir: TempDir;
let cluster: LocalCluster;

describe.skipIf(!ready)('cluster outages under QoS 1 load through haproxy', () => {
  beforeAll(async () => {
    outagesDir = makeTempDir('cm-cluster-outages-');
    cluster = await startLocalCluster({
      dir: outagesDir.path,
      counts: { edge: 2, writer: 2, kpi: 1, api: 1 },
      cliCommand: ['--import', 'tsx', join(ROOT, 'cli.ts')],
      env: { LOG_LEVEL: 'warn' },
    });
  }, 300_000);

  afterAll(async () => {
    await cluster?.stop();
    outagesDir?.remove();
  });

  const readyz = async (url: string) => {
    const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5_000) });
    return { status: res.status, body: (await res.json()) as { failing: string[]; degraded?: string[] } };
  };

  it('PostgreSQL restarted: the edges keep acknowledging, the writers catch up, nothing lost or doubled', async () => {
    const devices = await provisionDevices(cluster.info, 8);
    const start = loadStart();
    const load = await startLoad(cluster.info, devices, start);
    await until('load flowing', () => load.acked() > 150, 60_000);
    await cluster.postgres.stop('SIGINT');
    const writer = cluster.node('writer-1').info.http;
    let last: unknown = null;
    await until('the writer to say PostgreSQL is gone', async () => {
      const r = await readyz(writer);
      last = r.body;
      return r.status === 503 && r.body.failing.includes('postgres');
    }).catch((err: Error) => {
      const log = readFileSync(cluster.node('writer-1').info.log, 'utf8').slice(-3_000);
      throw new Error(`${err.message}; its /readyz: ${JSON.stringify(last)}; its log:\n${log}`);
    });
    // The edges stay in service: they authenticate from memory and log to JetStream.
    // (each node asks PostgreSQL every 2 s: the edge may notice a little after the writer)
    const edgeUrl = cluster.node('edge-1').info.http;
    await until('the edge to report PostgreSQL as degraded', async () => {
      const edge = await readyz(edgeUrl);
      expect(edge.status).toBe(200);
      return edge.body.degraded?.includes('postgres') === true;
    });
    expect((await readyz(edgeUrl)).body.failing).toEqual([]);
    const whileDown = load.acked();
    // The edges' log is JetStream: readings are acknowledged while PostgreSQL is down.
    await until('acknowledgements while PostgreSQL is down', () => load.acked() > whileDown + 100, 60_000);
    await cluster.postgres.start();
    await until('the writer ready again', async () => (await readyz(writer)).status === 200, 60_000);
    const acked = await load.stop();
    expect(load.refusals(), 'readings refused for good').toEqual({});
    await expectStoredOnce(cluster.info, acked, start);
  }, 300_000);

  it('one NATS node of three stopped for 30 s: publishing goes on, the node catches up, nothing lost or doubled', async () => {
    const devices = await provisionDevices(cluster.info, 8);
    const start = loadStart();
    const load = await startLoad(cluster.info, devices, start);
    await until('load flowing', () => load.acked() > 150, 60_000);
    const node = cluster.nats[0]!;
    await node.stop('SIGTERM');
    const atStop = load.acked();
    const stoppedAt = Date.now();
    await until('acknowledgements with one node down', () => load.acked() > atStop + 300, 60_000);
    // Down for 30 s in all, with the load going on.
    await new Promise((r) => setTimeout(r, Math.max(0, 30_000 - (Date.now() - stoppedAt))));
    expect(node.running).toBe(false);
    await node.start();
    const afterStart = load.acked();
    await until('acknowledgements after it is back', () => load.acked() > afterStart + 100, 60_000);
    const acked = await load.stop();
    expect(load.refusals(), 'readings refused for good').toEqual({});
    await expectStoredOnce(cluster.info, acked, start);
    for (const n of cluster.info.nodes) expect((await readyz(n.http)).status, n.name).toBe(200);
  }, 300_000);
});
