import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCluster, startLocalCluster } from '../../cluster/local/local-cluster.ts';
import { makeTempDir, type TempDir } from '../helpers/temp-dir.ts';
import { ROOT } from '../reliability/platform-process.ts';
import { natsServerBinary } from '../servers/nats.ts';
import { postgresBinDir } from '../servers/postgres.ts';
import { findServerBinary } from '../servers/process-server.ts';
import { expectStoredOnce, provisionDevices, startLoad } from './device-load.ts';
import { until } from './role-process.ts';

/**
 * The engines under the cluster going away while devices publish through haproxy: PostgreSQL restarted
 * (the writers cannot write, the edges keep acknowledging into JetStream), and one NATS node of three
 * stopped for 30 s (the stream keeps its quorum). Each ends with every acknowledged reading stored once.
 */

const ready =
  natsServerBinary() !== null &&
  postgresBinDir() !== null &&
  findServerBinary('/usr/sbin/haproxy', 'haproxy') !== null;
const MINUTE = 60_000;
let dir: TempDir;
let cluster: LocalCluster;

beforeAll(async () => {
  if (!ready) return;
  dir = makeTempDir('cm-cluster-outages-');
  cluster = await startLocalCluster({
    dir: dir.path,
    counts: { edge: 2, writer: 2, kpi: 1, api: 1 },
    cliCommand: ['--import', 'tsx', join(ROOT, 'cli.ts')],
    env: { LOG_LEVEL: 'warn' },
  });
}, 300_000);

afterAll(async () => {
  await cluster?.stop();
  dir?.remove();
});

const readyz = async (url: string) => {
  const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5_000) });
  return { status: res.status, body: (await res.json()) as { failing: string[]; degraded?: string[] } };
};

describe.skipIf(!ready)('cluster outages under QoS 1 load through haproxy', () => {
  it('PostgreSQL restarted: the edges keep acknowledging, the writers catch up, nothing lost or doubled', async () => {
    const devices = await provisionDevices(cluster.info, 8);
    const start = Date.now() - 24 * 60 * MINUTE;
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
    const edge = await readyz(cluster.node('edge-1').info.http);
    expect(edge.status).toBe(200);
    expect(edge.body).toMatchObject({ failing: [], degraded: ['postgres'] });
    const whileDown = load.acked();
    // The edges' log is JetStream: readings are acknowledged while PostgreSQL is down.
    await until('acknowledgements while PostgreSQL is down', () => load.acked() > whileDown + 100, 60_000);
    await cluster.postgres.start();
    await until('the writer ready again', async () => (await readyz(writer)).status === 200, 60_000);
    const acked = await load.stop();
    await expectStoredOnce(cluster.info, acked, start);
  }, 300_000);

  it('one NATS node of three stopped for 30 s: publishing goes on, the node catches up, nothing lost or doubled', async () => {
    const devices = await provisionDevices(cluster.info, 8);
    const start = Date.now() - 24 * 60 * MINUTE;
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
    await expectStoredOnce(cluster.info, acked, start);
    for (const n of cluster.info.nodes) expect((await readyz(n.http)).status, n.name).toBe(200);
  }, 300_000);
});
