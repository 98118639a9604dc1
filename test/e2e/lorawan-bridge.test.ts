import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { buildLorawanBridge } from '../../bridges/lorawan/lorawan-bridge.ts';
import { createLogger, silentLogger } from '../../core/logger.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/platform-harness.ts';
import { type MosquittoTestServer, mosquittoBinary, startMosquitto } from '../servers/mosquitto.ts';

const binary = mosquittoBinary();
const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'lorawan');
/** A documented uplink, its values changed by path in each test (the shape is the servers', not ours). */
// biome-ignore lint/suspicious/noExplicitAny: nested fixture fields are set by path; the parsers check the shape
type Fixture = Record<string, any>;
const fixture = (name: string): Fixture => JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as Fixture;
/** Delivery through a real broker takes milliseconds; the bound only keeps a broken run from hanging. */
const WITHIN = { timeout: 15_000, interval: 20 };

/** Receive times within the late window, with nanoseconds as ChirpStack writes them. */
const BASE = Math.floor(Date.now() / 1000) * 1000 - 10 * 60_000;
const rfc3339Nanos = (ms: number) => new Date(ms).toISOString().replace('Z', '456789+00:00');

let broker: MosquittoTestServer;
let run = 0;

beforeAll(async () => {
  if (binary !== null) broker = await startMosquitto(binary);
}, 30_000);
afterAll(async () => {
  await broker?.destroy();
});

interface Latest {
  values: Array<{ metric: string; ts: string; value: number; unit: string | null }>;
}
interface Counters {
  received: number;
  refused: { byReason: Record<string, number> };
  seq: { gaps: number; highest: number } | null;
}

/** A platform with both bridges on the test broker, each with client ids of its own (sessions persist). */
async function platformOnBroker(extra: Record<string, unknown> = {}): Promise<TestPlatform> {
  run++;
  const t = await startTestPlatform({
    chirpstackMqttUrl: broker.url,
    chirpstackMqttClientId: `cs-${process.pid}-${run}`,
    ttsMqttUrl: broker.url,
    ttsMqttClientId: `tts-${process.pid}-${run}`,
    ...extra,
  });
  onTestFinished(() => t.close());
  await Promise.all(t.platform.bridges.map((b) => b.subscribed()));
  return t;
}

async function publisher(): Promise<MqttClient> {
  const client = await mqtt.connectAsync(broker.url, { clientId: `ns-${process.pid}-${++run}` });
  onTestFinished(() => client.endAsync());
  return client;
}

async function device(t: TestPlatform, kind: string, devEui: string): Promise<string> {
  const res = await t.api<{ id: string; devEui: string }>('POST', '/api/devices', {
    kind,
    district: 'Harbour',
    devEui,
    // the uplinks are stamped from BASE, ten minutes before the test started
    installedAt: new Date(BASE).toISOString(),
  });
  expect(res.status).toBe(201);
  expect(res.body.devEui).toBe(devEui.toLowerCase());
  return res.body.id;
}

function chirpstackUp(devEui: string, fCnt: number, at: number, patch: Record<string, unknown> = {}) {
  const up = fixture('chirpstack-v4-up.json');
  up.deviceInfo.devEui = devEui;
  up.fCnt = fCnt;
  up.time = rfc3339Nanos(at);
  return {
    topic: `application/${up.deviceInfo.applicationId}/device/${devEui}/event/up`,
    body: { ...up, ...patch },
  };
}

function ttsUp(devEui: string, fCnt: number, at: number, decoded: Record<string, unknown> | undefined) {
  const up = fixture('tts-v3-up.json');
  up.end_device_ids.dev_eui = devEui.toUpperCase();
  up.uplink_message.f_cnt = fCnt;
  up.uplink_message.received_at = new Date(at).toISOString();
  up.received_at = new Date(at + 250).toISOString();
  if (decoded === undefined) delete up.uplink_message.decoded_payload;
  else up.uplink_message.decoded_payload = decoded;
  return { topic: `v3/app1@ttn/devices/${up.end_device_ids.device_id}/up`, body: up };
}

const publish = (c: MqttClient, m: { topic: string; body: unknown }) =>
  c.publishAsync(m.topic, JSON.stringify(m.body), { qos: 1 });

const latest = async (t: TestPlatform, id: string) =>
  (await t.api<Latest>('GET', `/api/devices/${id}/latest`)).body.values;
const counters = async (t: TestPlatform, id: string) =>
  (await t.api<Counters>('GET', `/api/devices/${id}/counters`)).body;

describe.skipIf(binary === null)('LoRaWAN bridges on a real mosquitto', () => {
  it('stores ChirpStack and TTS uplinks with metric, unit, receive time and fCnt, and decodes CayenneLPP', async () => {
    const t = await platformOnBroker();
    const aq = await device(t, 'air-quality-station', '70B3D57ED0000001');
    const noise = await device(t, 'noise-monitor', '70b3d57ed0000002');
    const water = await device(t, 'water-smart-meter', '70b3d57ed0000003');
    const ns = await publisher();

    await publish(ns, chirpstackUp('70b3d57ed0000001', 10, BASE));
    await publish(ns, ttsUp('70b3d57ed0000002', 7, BASE + 1_000, { LAeq: 61.3, battery: 74 }));
    // No codec ran at ChirpStack: the bytes are CayenneLPP, analog in 1 = 0.25 m³, analog in 8 = 90 %.
    const lpp = Buffer.from('0102001908022328', 'hex');
    await publish(
      ns,
      chirpstackUp('70b3d57ed0000003', 3, BASE + 2_000, { object: undefined, data: lpp.toString('base64') }),
    );

    await vi.waitFor(async () => expect(await latest(t, water)).toHaveLength(3), WITHIN);
    await vi.waitFor(async () => expect(await latest(t, aq)).toHaveLength(3), WITHIN);
    await vi.waitFor(async () => expect(await latest(t, noise)).toHaveLength(2), WITHIN);
    const iso = (ms: number) => new Date(ms).toISOString();
    const byMetric = (values: Latest['values']) => Object.fromEntries(values.map((v) => [v.metric, v]));
    expect(byMetric(await latest(t, aq))).toMatchObject({
      pm25: { value: 12.4, unit: 'µg/m³', ts: iso(BASE) },
      pm10: { value: 20.1, unit: 'µg/m³', ts: iso(BASE) },
      battery: { value: 87, unit: '%' },
    });
    expect(byMetric(await latest(t, noise))).toMatchObject({
      laeq: { value: 61.3, unit: 'dB(A)', ts: iso(BASE + 1_000) },
      battery: { value: 74 },
    });
    // The water meter declares rssi: the best gateway's (-36 dBm of -36 and -101) is kept.
    expect(byMetric(await latest(t, water))).toMatchObject({
      volume: { value: 0.25, unit: 'm³', ts: iso(BASE + 2_000) },
      battery: { value: 90, unit: '%' },
      rssi: { value: -36, unit: 'dBm' },
    });
    expect((await counters(t, aq)).seq).toMatchObject({ highest: 10 });
  });

  it('counts unknown DevEUIs, undecodable payloads and unknown fields with their codes, per device and in /metrics', async () => {
    const t = await platformOnBroker();
    const aq = await device(t, 'air-quality-station', '70b3d57ed0000011');
    const noise = await device(t, 'noise-monitor', '70b3d57ed0000012');
    const ns = await publisher();

    await publish(ns, chirpstackUp('70b3d57ed00000ff', 1, BASE));
    // 0xFF is no LPP type.
    const bad = { object: undefined, data: Buffer.from('01FF00', 'hex').toString('base64') };
    await publish(ns, chirpstackUp('70b3d57ed0000011', 1, BASE, bad));
    await publish(ns, chirpstackUp('70b3d57ed0000011', 4, BASE + 1_000));
    // The documented TTS example's fields: a noise monitor has neither temperature nor luminosity.
    await publish(ns, ttsUp('70b3d57ed0000012', 2, BASE, { temperature: 1.0, luminosity: 0.64, laeq: 55.5 }));
    await publish(ns, { topic: 'v3/app1@ttn/devices/dev1/up', body: 'not an uplink' });

    await vi.waitFor(async () => {
      expect((await counters(t, noise)).refused.byReason).toEqual({ BRIDGE_UNKNOWN_FIELD: 1 });
      expect((await counters(t, aq)).refused.byReason).toEqual({ BRIDGE_UNDECODABLE: 1 });
      expect(await latest(t, aq)).toHaveLength(3);
    }, WITHIN);
    expect(await latest(t, noise)).toMatchObject([{ metric: 'laeq', value: 55.5 }]);
    // fCnt 4 after 1 was lost: the undecodable frame 1 never reached ingest, frames 2 and 3 never came.
    expect((await counters(t, aq)).seq).toMatchObject({ highest: 4 });
    await vi.waitFor(async () => {
      const metrics = await (await fetch(`${t.addresses.httpUrl}/metrics`)).text();
      expect(metrics).toMatch(/citymetrics_\w*refused\w*\{reason="BRIDGE_UNKNOWN_DEVEUI"\} 1/);
      expect(metrics).toMatch(/reason="BRIDGE_UNDECODABLE"\} 2/);
      expect(metrics).toMatch(/reason="BRIDGE_UNKNOWN_FIELD"\} 1/);
    }, WITHIN);
  });

  it('delivers uplinks published while the bridge was down once it is back (persistent session)', async () => {
    const t = await platformOnBroker();
    const noise = await device(t, 'noise-monitor', '70b3d57ed0000021');
    const ns = await publisher();
    await publish(ns, ttsUp('70b3d57ed0000021', 1, BASE, { laeq: 50 }));
    await vi.waitFor(async () => expect(await latest(t, noise)).toHaveLength(1), WITHIN);

    const tts = t.platform.bridges.find((b) => b.server === 'tts')!;
    await tts.close();
    for (let f = 2; f <= 4; f++)
      await publish(ns, ttsUp('70b3d57ed0000021', f, BASE + f * 1_000, { laeq: 50 + f }));
    expect((await counters(t, noise)).received).toBe(1);

    const again = buildLorawanBridge(
      {
        sink: t.platform.ingest,
        devices: t.platform.registry,
        rate: t.platform.gateway.rateLimiter,
        logger: silentLogger(),
      },
      { server: 'tts', url: broker.url, clientId: t.platform.config.ttsMqttClientId },
    );
    onTestFinished(() => again.close());
    again.start();
    await vi.waitFor(
      async () => expect((await counters(t, noise)).seq).toMatchObject({ highest: 4, gaps: 0 }),
      WITHIN,
    );
    expect((await counters(t, noise)).received).toBe(4);
    await t.platform.ingest.drain();
    expect(await latest(t, noise)).toMatchObject([
      { metric: 'laeq', value: 54, ts: new Date(BASE + 4_000).toISOString() },
    ]);
  });

  it('a bridge joining a share group leaves the plain subscription its session held: only its turns', async () => {
    // A city moving into a cluster: edge 1 takes over the single process's client id, and its session.
    const t = await platformOnBroker();
    const aq = await device(t, 'air-quality-station', '70b3d57ed0000051');
    await t.platform.bridges.find((b) => b.server === 'chirpstack')!.close();
    const group = `edges-${process.pid}-${run}`;
    const member = (clientId: string) => {
      const bridge = buildLorawanBridge(
        {
          sink: t.platform.ingest,
          devices: t.platform.registry,
          rate: t.platform.gateway.rateLimiter,
          logger: silentLogger(),
        },
        { server: 'chirpstack', url: broker.url, clientId, shareGroup: group },
      );
      onTestFinished(() => bridge.close());
      bridge.start();
      return bridge;
    };
    // Edge 2 joined the group and is away: its turns wait in its session, only edge 1 hands anything over.
    const away = member(`cs-away-${process.pid}-${run}`);
    await away.subscribed();
    await away.close();
    const edge1 = member(t.platform.config.chirpstackMqttClientId);
    await edge1.subscribed();
    const ns = await publisher();
    for (let f = 1; f <= 6; f++) await publish(ns, chirpstackUp('70b3d57ed0000051', f, BASE + f * 1_000));
    // One of 5 and 6 is edge 1's turn, and edge 1 takes uplinks in order: once either is in, edge 1 has
    // handled all it will of 1 to 4. Its turns are every other uplink; the plain subscription would add the rest.
    await vi.waitFor(
      async () => expect((await counters(t, aq)).seq?.highest).toBeGreaterThanOrEqual(5),
      WITHIN,
    );
    expect(edge1.stats().uplinks).toBe(3);
  });

  it('two bridges with one client id: the session taken over again and again is reported, not silent', async () => {
    const t = await platformOnBroker();
    const lines: string[] = [];
    const logger = createLogger(
      'info',
      new Writable({
        write(chunk: Buffer, _enc, done) {
          lines.push(chunk.toString());
          done();
        },
      }),
    );
    const clientId = `cs-shared-${process.pid}-${run}`;
    const twin = () => {
      const bridge = buildLorawanBridge(
        {
          sink: t.platform.ingest,
          devices: t.platform.registry,
          rate: t.platform.gateway.rateLimiter,
          logger,
        },
        { server: 'chirpstack', url: broker.url, clientId, reconnectPeriodMs: 100 },
      );
      onTestFinished(() => bridge.close());
      bridge.start();
      return bridge;
    };
    const a = twin();
    const b = twin();
    // The broker ends the older session whenever the other connects; each reconnects and takes it back.
    await vi.waitFor(() => expect(a.stats().takenOver + b.stats().takenOver).toBeGreaterThan(0), WITHIN);
    const report = lines
      .map((l) => JSON.parse(l) as { level: number; msg: string; clientId?: string })
      .find((l) => l.level === 50 && l.msg.includes('same client id'));
    expect(report?.clientId).toBe(clientId);
  });

  it('leaves a retryable refusal unacknowledged: the broker delivers it again and it is stored', async () => {
    // One message per second (burst 2): the third of five uplinks at once is refused as GATEWAY_RATE_LIMITED.
    const t = await platformOnBroker({ deviceRateLimitPerSec: 1 });
    const noise = await device(t, 'noise-monitor', '70b3d57ed0000031');
    const ns = await publisher();
    for (let f = 1; f <= 5; f++)
      await publish(ns, ttsUp('70b3d57ed0000031', f, BASE + f * 1_000, { laeq: 40 + f }));

    await vi.waitFor(
      async () => expect((await counters(t, noise)).seq).toMatchObject({ highest: 5, gaps: 0 }),
      {
        timeout: 30_000,
        interval: 50,
      },
    );
    const tts = t.platform.bridges.find((b) => b.server === 'tts')!;
    expect(tts.stats().retried).toBeGreaterThan(0);
    expect((await counters(t, noise)).refused.byReason.GATEWAY_RATE_LIMITED).toBeGreaterThan(0);
    await t.platform.ingest.drain();
    expect(await latest(t, noise)).toMatchObject([
      { metric: 'laeq', value: 45, ts: new Date(BASE + 5_000).toISOString() },
    ]);
  }, 40_000);

  it('refuses a DevEUI another device has (409 on devEui) and sets one by PATCH', async () => {
    const t = await platformOnBroker();
    const a = await device(t, 'noise-monitor', '70b3d57ed0000041');
    const dup = await t.api<{ error: { code: string; field: string } }>('POST', '/api/devices', {
      kind: 'noise-monitor',
      district: 'Harbour',
      devEui: '70B3D57ED0000041',
    });
    expect(dup.status).toBe(409);
    expect(dup.body.error).toMatchObject({ code: 'API_CONFLICT', field: 'devEui' });
    const b = await t.provision('noise-monitor', 'Harbour');
    const patched = await t.api<{ devEui: string }>('PATCH', `/api/devices/${b.id}`, {
      devEui: '70B3D57ED0000042',
    });
    expect(patched.status).toBe(200);
    expect(patched.body.devEui).toBe('70b3d57ed0000042');
    const taken = await t.api<{ error: { field: string } }>('PATCH', `/api/devices/${b.id}`, {
      devEui: '70b3d57ed0000041',
    });
    expect(taken.status).toBe(409);
    expect(taken.body.error.field).toBe('devEui');
    expect(a).not.toBe(b.id);
  });
});
