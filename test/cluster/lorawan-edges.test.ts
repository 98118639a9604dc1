import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type MosquittoTestServer, mosquittoBinary, startMosquitto } from '../servers/mosquitto.ts';
import { type NatsTestCluster, natsServerBinary, startNats } from '../servers/nats.ts';
import { type PostgresTestServer, postgresBinDir, startPostgres } from '../servers/postgres.ts';
import { type RoleProcess, roleProcess, until } from './role-process.ts';

/**
 * The LoRaWAN bridges on the edge role, as real processes: a real mosquitto stands for the network server's
 * broker, a third-party client publishes ChirpStack uplinks to it, two edges bridge it into JetStream, a
 * writer stores and an api node answers. Every uplink is stored once: the edges split the uplinks through
 * one shared subscription, and an uplink that reaches JetStream twice carries the same message id.
 */

const natsBinary = natsServerBinary();
const pgBin = postgresBinDir();
const mqBinary = mosquittoBinary();
let nats: NatsTestCluster;
let pg: PostgresTestServer;
let broker: MosquittoTestServer;
let made = 0;
const running: RoleProcess[] = [];

beforeAll(async () => {
  if (natsBinary === null || pgBin === null || mqBinary === null) return;
  nats = await startNats(1, natsBinary);
  pg = await startPostgres(pgBin);
  broker = await startMosquitto(mqBinary);
}, 60_000);
afterEach(async () => {
  for (const r of running.splice(0)) {
    await r.proc.kill('SIGKILL');
    r.dir.remove();
  }
});
afterAll(async () => {
  await broker?.destroy();
  await nats?.destroy();
  await pg?.destroy();
});

async function clusterEnv(extra: Record<string, string> = {}): Promise<Record<string, string>> {
  const n = `${process.pid}_${++made}`;
  return {
    NATS_URL: nats.urls.join(','),
    POSTGRES_URL: await pg.createDatabase(),
    STORE: 'postgres',
    JETSTREAM_STREAM: `LORA_${n}`,
    JETSTREAM_SUBJECT_PREFIX: `lora${n}`,
    JETSTREAM_SHARDS: '4',
    JETSTREAM_REPLICAS: '1',
    CHIRPSTACK_MQTT_URL: broker.url,
    // Each test its own group: sessions of an earlier test's edges stay in the broker's groups.
    LORAWAN_SHARE_GROUP: `g${n}`,
    ...extra,
  };
}

async function start(roles: string, env: Record<string, string>): Promise<RoleProcess> {
  const r = await roleProcess(roles, env);
  running.push(r);
  await r.proc.start();
  return r;
}

interface BridgeState {
  server: string;
  connected: boolean;
  subscribed: boolean;
  uplinks: number;
  retried: number;
}
interface EdgeState {
  duplicates: number;
  lorawan?: BridgeState[];
}
const edgeState = async (edge: RoleProcess): Promise<EdgeState> =>
  ((await edge.readyz()).body as unknown as { edge: EdgeState }).edge;
const bridgeOf = async (edge: RoleProcess): Promise<BridgeState> => {
  const bridges = (await edgeState(edge)).lorawan ?? [];
  expect(bridges.map((b) => b.server)).toEqual(['chirpstack']);
  return bridges[0]!;
};

/** Each edge with a client id of its own: the broker keeps one session per id. */
async function startEdge(env: Record<string, string>, name: string): Promise<RoleProcess> {
  const edge = await start('edge', { ...env, CHIRPSTACK_MQTT_CLIENT_ID: `${name}-${process.pid}-${made}` });
  await until(
    `${name} subscribed to the network server's broker`,
    async () => (await bridgeOf(edge)).subscribed,
  );
  return edge;
}

const FIXTURE = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', 'fixtures', 'lorawan', 'chirpstack-v4-up.json'), 'utf8'),
) as { deviceInfo: { devEui: string; applicationId: string } };
/** Receive times inside the late window. */
const BASE = Math.floor(Date.now() / 1000) * 1000 - 10 * 60_000;

function chirpstackUp(devEui: string, fCnt: number) {
  const at = BASE + fCnt * 1_000;
  const up = {
    ...FIXTURE,
    deviceInfo: { ...FIXTURE.deviceInfo, devEui },
    fCnt,
    time: new Date(at).toISOString(),
    object: { pm2_5: fCnt / 10, battery: 80 },
  };
  return { topic: `application/${FIXTURE.deviceInfo.applicationId}/device/${devEui}/event/up`, body: up };
}

async function networkServer(): Promise<MqttClient> {
  return mqtt.connectAsync(broker.url, { clientId: `ns-${process.pid}-${made}` });
}
const publishUp = (ns: MqttClient, devEui: string, fCnt: number) => {
  const m = chirpstackUp(devEui, fCnt);
  return ns.publishAsync(m.topic, JSON.stringify(m.body), { qos: 1 });
};

/** Provisioned before the edges start, so that both know the DevEUI from their first uplink. */
async function provisionedDevice(api: RoleProcess, devEui: string): Promise<string> {
  const res = await api.proc.api<{ id: string }>('POST', '/api/devices', {
    kind: 'air-quality-station',
    district: 'D1',
    devEui,
    installedAt: new Date(BASE - 86_400_000).toISOString(),
  });
  expect(res.status).toBe(201);
  return res.body.id;
}

async function storedCount(api: RoleProcess, device: string): Promise<number> {
  const from = new Date(BASE - 60_000).toISOString();
  const to = new Date(BASE + 3_600_000).toISOString();
  const res = await api.proc.api<{ points: Array<{ count: number }> }>(
    'GET',
    `/api/series?device=${device}&metric=pm25&from=${from}&to=${to}&step=minute`,
  );
  expect(res.status).toBe(200);
  return res.body.points.reduce((sum, p) => sum + p.count, 0);
}

const ready = describe.skipIf(natsBinary === null || pgBin === null || mqBinary === null);

ready('LoRaWAN bridges on the edges of a cluster', () => {
  it('two edges split the uplinks of one shared subscription; an edge killed mid-stream gets its share on return; each uplink stored once', async () => {
    const env = await clusterEnv();
    const api = await start('api', env);
    await start('writer', env);
    const devEui = '70b3d57ed00000a1';
    const device = await provisionedDevice(api, devEui);
    const edge1 = await startEdge(env, 'cs-edge-1');
    const edge2 = await startEdge(env, 'cs-edge-2');
    const ns = await networkServer();
    try {
      const n = 40;
      for (let f = 1; f <= n; f++) await publishUp(ns, devEui, f);
      await until(`${n} uplinks stored`, async () => (await storedCount(api, device)) >= n);
      expect(await storedCount(api, device)).toBe(n);
      // Each uplink went to one edge: the bridges' uplinks add up to n, not 2n, and both took some.
      const first = [await bridgeOf(edge1), await bridgeOf(edge2)];
      expect(first[0]!.uplinks + first[1]!.uplinks).toBe(n);
      expect(first[0]!.uplinks).toBeGreaterThan(0);
      expect(first[1]!.uplinks).toBeGreaterThan(0);
      expect((await edgeState(edge1)).duplicates + (await edgeState(edge2)).duplicates).toBe(0);

      // The network server sends one uplink twice (at-least-once): the broker hands the copies to the two
      // edges in turn, both publish it to JetStream with the same message id, it is logged once.
      await publishUp(ns, devEui, n + 1);
      await publishUp(ns, devEui, n + 1);
      await until('both copies handled', async () => {
        const [a, b] = [await bridgeOf(edge1), await bridgeOf(edge2)];
        return a.uplinks + b.uplinks === n + 2;
      });
      expect((await bridgeOf(edge1)).uplinks).toBe(first[0]!.uplinks + 1);
      expect((await bridgeOf(edge2)).uplinks).toBe(first[1]!.uplinks + 1);
      const duplicates = async () =>
        (await edgeState(edge1)).duplicates + (await edgeState(edge2)).duplicates;
      await until('the second copy recognised', async () => (await duplicates()) === 1);
      await until('the uplink stored', async () => (await storedCount(api, device)) >= n + 1);
      expect(await storedCount(api, device)).toBe(n + 1);

      // Mid-stream, edge 2 dies without a word. mosquitto keeps its persistent session in the group: the
      // uplinks it had in flight and its turn of those published while it is down wait in that session,
      // and are delivered when an edge with its client id connects again (here: edge 2 restarted).
      const total = 2 * n + 1;
      const inFlight = [];
      for (let f = n + 2; f <= n + 1 + n / 2; f++) inFlight.push(publishUp(ns, devEui, f));
      await Promise.all(inFlight);
      await edge2.proc.kill('SIGKILL');
      for (let f = n + 2 + n / 2; f <= total; f++) await publishUp(ns, devEui, f);
      await edge2.proc.start();
      await until('edge 2 back on its session', async () => (await bridgeOf(edge2)).connected);
      await until(`${total} uplinks stored`, async () => (await storedCount(api, device)) >= total);
      expect(await storedCount(api, device)).toBe(total);
      // The restarted edge took what its session held: at least its turn (every other one) of the uplinks
      // published while it was down. A copy it had logged before the kill but not acknowledged came back to
      // it with the same message id: stored once all the same.
      expect((await bridgeOf(edge2)).uplinks).toBeGreaterThanOrEqual(n / 4);
    } finally {
      await ns.endAsync();
    }
  }, 120_000);

  it('LORAWAN_SHARE_GROUP=off: every edge takes every uplink (twice the work), JetStream still logs each once', async () => {
    const env = await clusterEnv({ LORAWAN_SHARE_GROUP: 'off' });
    const api = await start('api', env);
    await start('writer', env);
    const devEui = '70b3d57ed00000b1';
    const device = await provisionedDevice(api, devEui);
    const edge1 = await startEdge(env, 'cs-plain-1');
    const edge2 = await startEdge(env, 'cs-plain-2');
    const ns = await networkServer();
    try {
      const n = 20;
      for (let f = 1; f <= n; f++) await publishUp(ns, devEui, f);
      await until('both edges took every uplink', async () => {
        const [a, b] = [await bridgeOf(edge1), await bridgeOf(edge2)];
        return a.uplinks === n && b.uplinks === n;
      });
      await until(`${n} uplinks stored`, async () => (await storedCount(api, device)) >= n);
      expect(await storedCount(api, device)).toBe(n);
      // Every uplink was published twice, once by each edge; the later copy of each was a duplicate.
      const duplicates = async () =>
        (await edgeState(edge1)).duplicates + (await edgeState(edge2)).duplicates;
      await until('every second copy recognised', async () => (await duplicates()) >= n);
      expect(await duplicates()).toBe(n);
    } finally {
      await ns.endAsync();
    }
  }, 120_000);
});
