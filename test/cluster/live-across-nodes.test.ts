import mqtt, { type MqttClient } from 'mqtt';
import { io, type Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { topicFor } from '../../core/topics.ts';
import type { LatestItem } from '../../dashboards/live/latest-coalescer.ts';
import type { DeviceCounts } from '../../ingest/device-counters.ts';
import { type NatsTestCluster, natsServerBinary, startNats } from '../servers/nats.ts';
import { type PostgresTestServer, postgresBinDir, startPostgres } from '../servers/postgres.ts';
import { type ReadyBody, type RoleProcess, roleProcess, until } from './role-process.ts';

/**
 * The live page across cluster nodes, as separate `start --roles` processes on a real nats-server and
 * PostgreSQL: an api node's live page and per-device counters show readings, events and device statuses
 * that arrived through another node's edge, and a process with roles edge,api announces each reading once.
 */

const natsBinary = natsServerBinary();
const pgBin = postgresBinDir();
let nats: NatsTestCluster;
let pg: PostgresTestServer;
const running: RoleProcess[] = [];
const sockets: Socket[] = [];
const devices: MqttClient[] = [];

beforeAll(async () => {
  if (natsBinary === null || pgBin === null) return;
  nats = await startNats(1, natsBinary);
  pg = await startPostgres(pgBin);
}, 60_000);
afterEach(async () => {
  for (const d of devices.splice(0)) d.end(true);
  for (const s of sockets.splice(0)) s.close();
  for (const r of running.splice(0)) {
    await r.proc.kill('SIGKILL');
    r.dir.remove();
  }
});
afterAll(async () => {
  await nats?.destroy();
  await pg?.destroy();
});

async function start(roles: string, env: Record<string, string>): Promise<RoleProcess> {
  const r = await roleProcess(roles, env);
  running.push(r);
  await r.proc.start();
  return r;
}

/** What one browser on one node's live page received. */
interface LivePage {
  latest(deviceId: string): LatestItem[];
  /** Values announced per device, summed over every `device-activity` push. */
  activity(deviceId: string): number;
  online(deviceId: string): boolean | undefined;
}

async function openLivePage(node: RoleProcess, token: string): Promise<LivePage> {
  const socket = io(node.proc.httpUrl, {
    path: '/socket.io',
    transports: ['websocket'],
    reconnection: false,
    auth: { token },
  });
  sockets.push(socket);
  const latest: LatestItem[] = [];
  const activity = new Map<string, number>();
  const online = new Map<string, boolean>();
  socket.on('latest', (p: { items: LatestItem[] }) => latest.push(...p.items));
  socket.on('device-activity', (p: { items: Array<{ deviceId: string; readings: number }> }) => {
    for (const a of p.items) activity.set(a.deviceId, (activity.get(a.deviceId) ?? 0) + a.readings);
  });
  socket.on('device-status', (p: { items: Array<{ deviceId: string; online: boolean }> }) => {
    for (const s of p.items) online.set(s.deviceId, s.online);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('snapshot', () => resolve());
    socket.once('connect_error', reject);
  });
  return {
    latest: (id) => latest.filter((i) => i.deviceId === id),
    activity: (id) => activity.get(id) ?? 0,
    online: (id) => online.get(id),
  };
}

async function loginOnceKnown(url: string, id: string, password: string): Promise<MqttClient> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const client = mqtt.connect(url, { clientId: `${id}-c`, username: id, password, reconnectPeriod: 0 });
    try {
      await new Promise<void>((resolve, reject) => {
        client.once('connect', () => resolve());
        client.once('error', reject);
      });
      devices.push(client);
      return client;
    } catch (err) {
      client.end(true);
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

const publish = (client: MqttClient, topic: string, body: unknown): Promise<void> =>
  new Promise((resolve, reject) =>
    client.publish(topic, JSON.stringify(body), { qos: 1 }, (err) => (err ? reject(err) : resolve())),
  );

async function counters(node: RoleProcess, token: string, id: string): Promise<DeviceCounts> {
  const res = await fetch(`${node.proc.httpUrl}/api/devices/${id}/counters`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as DeviceCounts;
}

describe.skipIf(natsBinary === null || pgBin === null)('live page across cluster nodes', () => {
  it('a live page on api node A shows a reading that arrived through edge B; a process with roles edge,api announces each reading once', async () => {
    const n = process.pid;
    const env = {
      NATS_URL: nats.urls.join(','),
      POSTGRES_URL: await pg.createDatabase(),
      STORE: 'postgres',
      JETSTREAM_STREAM: `LIVE_${n}`,
      JETSTREAM_SUBJECT_PREFIX: `live${n}`,
      JETSTREAM_SHARDS: '4',
      JETSTREAM_REPLICAS: '1',
      LIVE_PUSH_INTERVAL_MS: '100',
      // the api nodes of one cluster share one admin token (another one is refused at start)
      ADMIN_TOKEN: `live-admin-${'t'.repeat(24)}`,
    };
    const apiA = await start('api', env);
    const edgeB = await start('edge', env);
    const both = await start('edge,api', env);
    // A key made through one node works on every api node: keys live in PostgreSQL.
    const key = await both.proc.api<{ key: string }>('POST', '/api/keys', { name: 'live', role: 'admin' });
    expect(key.status).toBe(201);
    const token = key.body.key;
    const installed = new Date(Date.now() - 3_600_000).toISOString();
    const provision = async () => {
      const res = await fetch(`${apiA.proc.httpUrl}/api/devices`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        // Installed an hour ago: the readings below are from ten minutes ago.
        body: JSON.stringify({ kind: 'air-quality-station', district: 'D1', installedAt: installed }),
      });
      expect(res.status).toBe(201);
      return (await res.json()) as { id: string; password: string };
    };
    const viaB = await provision();
    const viaBoth = await provision();
    const pageA = await openLivePage(apiA, token);
    const pageBoth = await openLivePage(both, token);

    // The device's session opens on edge B: api node A hears of it.
    const deviceB = await loginOnceKnown(edgeB.proc.mqttUrl, viaB.id, viaB.password);
    await until('A to show the device online', () => pageA.online(viaB.id) === true);

    const t0 = Date.now() - 10 * 60_000;
    await publish(deviceB, topicFor(viaB.id, 'telemetry'), { ts: t0, values: { pm25: 42.5 } });
    await until('A to show the reading from edge B', () => pageA.latest(viaB.id).length > 0);
    expect(pageA.latest(viaB.id)[0]).toMatchObject({
      deviceId: viaB.id,
      kind: 'air-quality-station',
      district: 'D1',
      metric: 'pm25',
      value: 42.5,
      ts: t0,
    });
    await until('the edge,api process to show it too', () => pageBoth.latest(viaB.id).length > 0);
    expect(pageBoth.latest(viaB.id)[0]?.value).toBe(42.5);

    // Through the edge of the edge,api process: announced there by its own ingest, not again by its relay.
    const deviceBoth = await loginOnceKnown(both.proc.mqttUrl, viaBoth.id, viaBoth.password);
    await publish(deviceBoth, topicFor(viaBoth.id, 'telemetry'), { ts: t0, values: { pm25: 17 } });
    await publish(deviceB, topicFor(viaB.id, 'events'), { ts: t0 + 1, type: 'calibration' });
    // A later reading through B: every node's relay gets what was published before it first.
    await publish(deviceB, topicFor(viaB.id, 'telemetry'), { ts: t0 + 60_000, values: { pm25: 43.5 } });
    for (const page of [pageA, pageBoth])
      await until('the later reading from B', () => page.latest(viaB.id).some((i) => i.value === 43.5));
    await until('the activity pushes of both devices', () =>
      [pageA, pageBoth].every((p) => p.activity(viaB.id) === 2 && p.activity(viaBoth.id) >= 1),
    );
    expect(pageBoth.activity(viaBoth.id)).toBe(1);
    expect(pageA.activity(viaBoth.id)).toBe(1);
    expect(pageA.latest(viaBoth.id).map((i) => i.value)).toEqual([17]);

    // Per-device counters on either api node count what every edge accepted, once.
    for (const node of [apiA, both]) {
      expect((await counters(node, token, viaB.id)).accepted).toEqual({
        messages: 3,
        readings: 2,
        values: 2,
      });
      expect((await counters(node, token, viaBoth.id)).accepted).toEqual({
        messages: 1,
        readings: 1,
        values: 1,
      });
    }
    const relayed = '{channel="readings"}';
    expect(await apiA.metric('citymetrics_live_relayed_total', relayed)).toBe(3);
    // The edge,api process relays only what came through B.
    expect(await both.metric('citymetrics_live_relayed_total', relayed)).toBe(2);
    expect(await apiA.metric('citymetrics_live_relayed_total', '{channel="events"}')).toBe(1);
    const ready = (await apiA.readyz()).body as ReadyBody & { liveRelay?: unknown };
    expect(ready.liveRelay).toMatchObject({ dropped: 0, slow: false, pending: 0 });

    // The session closes on B: A shows the device offline.
    deviceB.end(true);
    await until('A to show the device offline', () => pageA.online(viaB.id) === false);
  }, 180_000);
});
