import { once } from 'node:events';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.ts';
import { silentLogger } from '../core/logger.ts';
import { readingBatchSchema, readingSchema } from '../core/reading-schema.ts';
import { KindCatalogue } from '../devices/kind-catalogue.ts';
import { startTestBroker, type TestBroker } from './test-broker.ts';
import { VirtualDevice, type VirtualDeviceOptions } from './virtual-device.ts';

const catalogue = new KindCatalogue();
const T0 = Date.parse('2026-03-10T08:00:00Z');
const opened: Array<{ close(): Promise<unknown> }> = [];

afterEach(async () => {
  for (const h of opened.splice(0).reverse()) await h.close();
});

async function broker(port = 0): Promise<TestBroker> {
  const b = await startTestBroker(port);
  opened.push(b);
  return b;
}

function device(url: string, overrides: Partial<VirtualDeviceOptions> = {}): VirtualDevice {
  const d = new VirtualDevice({
    id: 'aq-test1',
    password: 'secret',
    kind: catalogue.get('air-quality-station')!,
    url,
    intervalMs: 0,
    seed: 1,
    clock: new ManualClock(T0),
    logger: silentLogger(),
    timezone: 'Europe/Berlin',
    backoff: { initialMs: 10, maxMs: 50 },
    stopTimeoutMs: 2_000,
    ...overrides,
  });
  opened.push({ close: () => d.stop() });
  return d;
}

const telemetry = (b: TestBroker, id = 'aq-test1') =>
  b.messages.filter((m) => m.topic === `devices/${id}/telemetry`);

describe('virtual device', () => {
  it('publishes valid JSON readings at QoS 1 that a real subscriber receives', async () => {
    const b = await broker();
    const sub = mqtt.connect(b.url, { clientId: 'observer', reconnectPeriod: 0 });
    opened.push({ close: () => sub.endAsync(true) });
    await new Promise<void>((resolve) => sub.once('connect', () => resolve()));
    await sub.subscribeAsync('devices/+/telemetry', { qos: 1 });
    const received: string[] = [];
    const gotThree = new Promise<void>((resolve) => {
      sub.on('message', (_topic, payload) => {
        received.push(payload.toString('utf8'));
        if (received.length === 3) resolve();
      });
    });
    const d = device(b.url);
    d.start();
    await once(d, 'connect');
    const acked = new Promise<void>((resolve) =>
      d.on('acknowledged', () => d.stats.acknowledged === 3 && resolve()),
    );
    d.tick();
    d.tick();
    d.tick();
    await Promise.all([gotThree, acked]);
    const readings = received.map((p) => readingSchema.parse(JSON.parse(p)));
    expect(readings.map((r) => r.seq)).toEqual([0, 1, 2]);
    expect(readings[0]!.ts).toBe(T0);
    expect(Object.keys(readings[0]!.values).sort()).toEqual(['battery', 'no2', 'o3', 'pm10', 'pm25', 'so2']);
    expect(telemetry(b).every((m) => m.qos === 1)).toBe(true);
    const status = b.messages.find((m) => m.topic === 'devices/aq-test1/status');
    expect(status).toMatchObject({ payload: 'online', retain: true });
    const stats = await d.stop();
    expect(stats).toMatchObject({ generated: 3, published: 3, messages: 3, acknowledged: 3, buffered: 0 });
  });

  it('buffers while the broker is down and back-fills in batches after it restarts', async () => {
    const first = await startTestBroker();
    const port = first.port;
    const d = device(first.url, { bufferLimit: 5, backfillBatchSize: 2 });
    d.start();
    await once(d, 'connect');
    d.tick();
    await first.waitFor(() => telemetry(first).length === 1);
    const offline = once(d, 'offline');
    await first.close();
    await offline;
    for (let i = 0; i < 7; i++) d.tick(); // 7 readings into a buffer of 5: the 2 oldest are dropped
    expect(d.snapshot()).toMatchObject({ buffered: 5, bufferedTotal: 7, dropped: 2 });
    const second = await broker(port);
    const backfilled = once(d, 'backfilled');
    const [info] = (await backfilled) as [{ readings: number; messages: number }];
    expect(info).toEqual({ readings: 5, messages: 3 });
    await second.waitFor(() => telemetry(second).length === 3);
    const batches = telemetry(second).map((m) => readingBatchSchema.parse(JSON.parse(m.payload)));
    expect(batches.map((batch) => batch.length)).toEqual([2, 2, 1]);
    expect(batches.flat().map((r) => r.seq)).toEqual([3, 4, 5, 6, 7]);
    const stats = await d.stop();
    expect(stats).toMatchObject({ backfilled: 5, backfillMessages: 3, dropped: 2, buffered: 0, connects: 2 });
    expect(stats.acknowledged).toBe(6);
  });

  it('publishes its last will when the link dies, and counts refusals sent on its errors topic', async () => {
    const b = await broker();
    const d = device(b.url, { faults: { dropout: 1, dropoutMs: 20 } });
    d.start();
    await once(d, 'connect');
    const refused = once(d, 'refused');
    b.broker.publish(
      {
        cmd: 'publish',
        topic: 'devices/aq-test1/errors',
        payload: Buffer.from('{"code":"INGEST_OUT_OF_RANGE","field":"values.pm25"}'),
        qos: 1,
        retain: false,
        dup: false,
      },
      () => {},
    );
    expect((await refused)[0]).toMatchObject({ code: 'INGEST_OUT_OF_RANGE', field: 'values.pm25' });
    const reconnected = once(d, 'connect');
    d.tick(); // sent, then the dropout fault cuts the link
    await b.waitFor((ms) => ms.some((m) => m.topic === 'devices/aq-test1/status' && m.payload === 'offline'));
    await reconnected;
    const stats = await d.stop();
    expect(stats.refused).toEqual({ INGEST_OUT_OF_RANGE: 1 });
    expect(stats.faults.dropout).toBe(1);
    expect(stats.connects).toBe(2);
  });

  it('gives up when the broker refuses its credentials', async () => {
    const b = await startTestBroker(0, {
      authenticate: (_client, _user, _password, done) => {
        const err = Object.assign(new Error('bad credentials'), { returnCode: 4 });
        done(err as never, false);
      },
    });
    opened.push(b);
    const d = device(b.url);
    d.start();
    await once(d, 'auth-refused');
    d.tick();
    const stats = await d.stop();
    expect(stats.authRefused).toBe(true);
    expect(stats.generated).toBe(0);
  });
});
