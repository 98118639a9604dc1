import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.ts';
import type { IngestStats } from '../../ingest/ingest-service.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/platform-harness.ts';
import { mqttCorpus } from './bad-input-corpus.ts';

type Stats = IngestStats;

/** The next message on a topic, or a failure naming what was awaited after `ms` (a test must not hang). */
function nextOn(client: MqttClient, topic: string, ms = 5_000): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('message', onMessage);
      reject(new Error(`no message on ${topic}`));
    }, ms);
    const onMessage = (t: string, payload: Buffer) => {
      if (t !== topic) return;
      clearTimeout(timer);
      client.off('message', onMessage);
      resolve(JSON.parse(payload.toString()) as Record<string, unknown>);
    };
    client.on('message', onMessage);
  });
}

describe(`bad MQTT input: ${mqttCorpus.length} payload cases`, () => {
  let t: TestPlatform;
  let client: MqttClient;
  let bystander: MqttClient;
  let deviceId: string;
  let bystanderId: string;
  let bystanderTs = Date.now() - 3_600_000;

  beforeAll(async () => {
    t = await startTestPlatform({ deviceRateLimitPerSec: 10_000, ingestMaxReadingsPerMessage: 1_000 });
    const dev = await t.provision('air-quality-station', 'Old Town');
    const other = await t.provision('noise-monitor', 'Harbour');
    deviceId = dev.id;
    bystanderId = other.id;
    client = await t.connect(dev.id, dev.password);
    await client.subscribeAsync(`devices/${dev.id}/errors`, { qos: 1 });
    bystander = await t.connect(other.id, other.password);
  });
  afterAll(async () => {
    await t.close();
  });

  const stats = async () => (await t.api<Stats>('GET', '/api/ingest/stats')).body;

  it.each(mqttCorpus)('$name → $code', async ({ payload, code, field, channel }) => {
    const before = await stats();
    const error = nextOn(client, `devices/${deviceId}/errors`);
    const topic = `devices/${deviceId}/${channel ?? 'telemetry'}`;
    await client.publishAsync(topic, payload(Date.now() - 1_000), { qos: 1 });
    const message = await error;
    expect(message.code).toBe(code);
    if (field !== undefined) expect(message.field).toBe(field);
    expect(message.topic).toBe(topic);

    // The bystander's reading goes through while (and after) the bad one is refused.
    bystanderTs += 1_000;
    await bystander.publishAsync(
      `devices/${bystanderId}/telemetry`,
      JSON.stringify({ ts: bystanderTs, values: { laeq: 40 } }),
      { qos: 1 },
    );
    await t.platform.ingest.drain();
    const after = await stats();
    expect((after.refused.byReason[code] ?? 0) - (before.refused.byReason[code] ?? 0)).toBe(1);
    expect(after.refused.total - before.refused.total).toBe(1);
    // Nothing of the bad message was accepted: only the bystander's one message and its one value.
    expect(after.accepted.messages - before.accepted.messages).toBe(1);
    expect(after.accepted.values - before.accepted.values).toBe(1);
    const latest = await t.api<{ values: unknown[] }>('GET', `/api/devices/${deviceId}/latest`);
    expect(latest.body.values).toEqual([]);
    const other = await t.api<{ values: Array<{ ts: string }> }>('GET', `/api/devices/${bystanderId}/latest`);
    expect(Date.parse(other.body.values[0]!.ts)).toBe(bystanderTs);
  });

  it('a repeated reading is acknowledged and stored once; a different value for it is a revision', async () => {
    const dev = await t.provision('air-quality-station', 'Old Town');
    const c = await t.connect(dev.id, dev.password);
    const ts = Date.now() - 120_000;
    for (const v of [7, 7, 7, 9]) {
      await c.publishAsync(`devices/${dev.id}/telemetry`, JSON.stringify({ ts, values: { pm25: v } }), {
        qos: 1,
      });
    }
    await t.platform.ingest.drain();
    const minute = Math.floor(ts / 60_000) * 60_000;
    const series = await t.api<{ points: Array<{ count: number; mean: number }> }>(
      'GET',
      `/api/series?device=${dev.id}&metric=pm25&step=minute&from=${new Date(minute).toISOString()}&to=${new Date(minute + 60_000).toISOString()}`,
    );
    expect(series.status).toBe(200);
    expect(series.body.points).toHaveLength(1);
    expect(series.body.points[0]!.count).toBe(1);
    expect(series.body.points[0]!.mean).toBe(9);
  });
});

describe('connection-level refusals: CONNACK code and a counter each', () => {
  let t: TestPlatform;
  beforeAll(async () => {
    t = await startTestPlatform();
  });
  afterAll(async () => {
    await t.close();
  });

  const refusals = async () =>
    (await t.api<Stats>('GET', '/api/ingest/stats')).body.refused.byReason as Record<string, number>;

  it.each([
    {
      name: 'wrong password',
      connack: 4,
      code: 'GATEWAY_BAD_CREDENTIALS',
      login: (d: Dev) => ({ username: d.id, password: 'wrong' }),
    },
    {
      name: 'unknown device',
      connack: 4,
      code: 'GATEWAY_BAD_CREDENTIALS',
      login: () => ({ username: 'aqs-nobody', password: 'x' }),
    },
    { name: 'no credentials', connack: 4, code: 'GATEWAY_BAD_CREDENTIALS', login: () => ({}) },
    {
      name: 'password of another device',
      connack: 4,
      code: 'GATEWAY_BAD_CREDENTIALS',
      login: (_d: Dev, o: Dev) => ({ username: _d.id, password: o.password }),
    },
    {
      name: 'disabled device',
      connack: 5,
      code: 'GATEWAY_DEVICE_DISABLED',
      disable: true,
      login: (d: Dev) => ({ username: d.id, password: d.password }),
    },
  ])('$name → CONNACK $connack, $code counted', async ({ connack, code, login, disable }) => {
    const d = await t.provision('emf-probe', 'Old Town');
    const o = await t.provision('emf-probe', 'Old Town');
    if (disable) expect((await t.api('POST', `/api/devices/${d.id}/disable`)).status).toBe(200);
    const before = (await refusals())[code] ?? 0;
    const err = await mqtt.connectAsync(t.addresses.mqttUrl, { ...login(d, o), reconnectPeriod: 0 }).then(
      (c) => c.endAsync().then(() => null),
      (e: Error & { code?: number }) => e,
    );
    expect(err?.code).toBe(connack);
    expect(((await refusals())[code] ?? 0) - before).toBe(1);
  });

  it('wildcards in a publish topic drop the connection and are counted', async () => {
    const d = await t.provision('emf-probe', 'Old Town');
    const before = (await refusals()).GATEWAY_WILDCARD_PUBLISH ?? 0;
    const c = await t.connect(d.id, d.password);
    const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
    // mqtt.js itself refuses to send such a topic: write the packet under it.
    (c as unknown as { _sendPacket(p: object, cb: () => void): void })._sendPacket(
      {
        cmd: 'publish',
        topic: `devices/${d.id}/#`,
        payload: Buffer.from('{}'),
        qos: 0,
        retain: false,
        dup: false,
      },
      () => {},
    );
    await closed;
    expect(((await refusals()).GATEWAY_WILDCARD_PUBLISH ?? 0) - before).toBe(1);
  });

  it.each([
    { name: 'topic outside devices/', topic: () => 'city/telemetry', code: 'GATEWAY_TOPIC_INVALID' },
    {
      name: 'unknown channel',
      topic: (id: string) => `devices/${id}/firmware`,
      code: 'GATEWAY_NOT_AUTHORIZED',
    },
    {
      name: 'extra topic level',
      topic: (id: string) => `devices/${id}/telemetry/x`,
      code: 'GATEWAY_TOPIC_INVALID',
    },
    {
      name: 'the errors channel',
      topic: (id: string) => `devices/${id}/errors`,
      code: 'GATEWAY_NOT_AUTHORIZED',
    },
  ])('publish on $name → $code', async ({ topic, code }) => {
    const d = await t.provision('emf-probe', 'Old Town');
    const c = await t.connect(d.id, d.password);
    await c.subscribeAsync(`devices/${d.id}/errors`, { qos: 1 });
    const before = (await refusals())[code] ?? 0;
    const error = nextOn(c, `devices/${d.id}/errors`);
    await c.publishAsync(topic(d.id), JSON.stringify({ ts: Date.now(), values: { e_field: 1 } }), { qos: 1 });
    expect((await error).code).toBe(code);
    expect(((await refusals())[code] ?? 0) - before).toBe(1);
  });
});

interface Dev {
  id: string;
  password: string;
}

describe('a flood from one device', () => {
  it('past its rate limit the rest is held, then taken: nothing refused, others are not affected', async () => {
    // A clock that does not move: the bucket never refills, so exactly the burst (2 × rate) goes through
    // at once and the rest is paced by the limiter's timers.
    const clock = new ManualClock(Date.now());
    const t = await startTestPlatform({ deviceRateLimitPerSec: 5 }, clock);
    try {
      const flooder = await t.provision('noise-monitor', 'Old Town');
      const calm = await t.provision('noise-monitor', 'Harbour');
      const c = await t.connect(flooder.id, flooder.password);
      await c.subscribeAsync(`devices/${flooder.id}/errors`, { qos: 1 });
      const codes: string[] = [];
      c.on('message', (_topic, payload) => codes.push(String(JSON.parse(payload.toString()).code)));
      const sends = [];
      for (let i = 0; i < 25; i++) {
        sends.push(
          c.publishAsync(
            `devices/${flooder.id}/telemetry`,
            JSON.stringify({ ts: clock.now() - 60_000 + i, values: { laeq: 50 } }),
            { qos: 1 },
          ),
        );
      }
      await Promise.all(sends);
      const calmClient = await t.connect(calm.id, calm.password);
      await calmClient.publishAsync(
        `devices/${calm.id}/telemetry`,
        JSON.stringify({ ts: clock.now() - 1_000, values: { laeq: 45 } }),
        { qos: 1 },
      );
      await t.platform.ingest.drain();
      const stats = (await t.api<Stats>('GET', '/api/ingest/stats')).body;
      expect(stats.refused.byReason.GATEWAY_RATE_LIMITED ?? 0).toBe(0);
      expect(stats.accepted.values).toBe(26); // all 25 of the flood + the calm device's one
      expect(codes).toEqual([]);
      const paced = await t.platform.telemetry.registry.getSingleMetricAsString(
        'citymetrics_mqtt_publishes_paced_total',
      );
      expect(paced).toMatch(/ 15$/m);
    } finally {
      await t.close();
    }
  });
});
