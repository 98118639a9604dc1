import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextMessage, startTestPlatform, type TestPlatform } from '../helpers/platform-harness.ts';

describe('MQTT access control', () => {
  let t: TestPlatform;
  let a: { id: string; password: string };
  let b: { id: string; password: string };
  beforeAll(async () => {
    t = await startTestPlatform();
    a = await t.provision('noise-monitor', 'Old Town');
    b = await t.provision('noise-monitor', 'Harbour');
  });
  afterAll(async () => {
    await t.close();
  });

  const refusedCount = async (code: string) =>
    (await t.api<{ refused: { byReason: Record<string, number> } }>('GET', '/api/ingest/stats')).body.refused
      .byReason[code] ?? 0;

  it('a device cannot publish as another device', async () => {
    const client = await t.connect(a.id, a.password);
    await client.subscribeAsync(`devices/${a.id}/errors`, { qos: 1 });
    const before = await refusedCount('GATEWAY_NOT_AUTHORIZED');
    const error = nextMessage(client, `devices/${a.id}/errors`);
    await client.publishAsync(
      `devices/${b.id}/telemetry`,
      JSON.stringify({ ts: Date.now() - 1000, values: { laeq: 55 } }),
      { qos: 1 },
    );
    expect((await error).code).toBe('GATEWAY_NOT_AUTHORIZED');
    expect(await refusedCount('GATEWAY_NOT_AUTHORIZED')).toBe(before + 1);
    await t.platform.ingest.drain();
    expect((await t.api<{ values: unknown[] }>('GET', `/api/devices/${b.id}/latest`)).body.values).toEqual(
      [],
    );
  });

  it('a device cannot subscribe to another device, nor to wildcards', async () => {
    const client = await t.connect(a.id, a.password, { clientId: `${a.id}:sub` });
    // mqtt.js rejects when a SUBACK refuses any topic; the SUBACK itself rides on the error.
    const refused = await client
      .subscribeAsync([`devices/${b.id}/errors`, 'devices/#', `devices/${a.id}/errors`], { qos: 1 })
      .then(
        () => null,
        (err: { packet?: { granted?: number[] } }) => err,
      );
    expect(refused?.packet?.granted).toEqual([128, 128, 1]);
  });

  it('a device cannot inject an error message into another device', async () => {
    const victim = await t.connect(b.id, b.password);
    await victim.subscribeAsync(`devices/${b.id}/errors`, { qos: 1 });
    let injected = false;
    victim.on('message', (_topic, payload) => {
      if (payload.toString().includes('spoofed')) injected = true;
    });
    const attacker = await t.connect(a.id, a.password, { clientId: `${a.id}:attack` });
    await attacker.subscribeAsync(`devices/${a.id}/errors`, { qos: 1 });
    const error = nextMessage(attacker, `devices/${a.id}/errors`);
    await attacker.publishAsync(`devices/${b.id}/errors`, '{"code":"spoofed"}', { qos: 1 });
    expect((await error).code).toBe('GATEWAY_NOT_AUTHORIZED');
    // The victim's own next error proves its subscription works and that nothing arrived before it.
    const own = nextMessage(victim, `devices/${b.id}/errors`);
    await victim.publishAsync(`devices/${b.id}/telemetry`, 'not json', { qos: 1 });
    expect((await own).code).toBe('INGEST_MALFORMED_JSON');
    expect(injected).toBe(false);
  });

  it('a wrong password and an unknown device are refused at connect', async () => {
    const wrong = await mqtt
      .connectAsync(t.addresses.mqttUrl, { username: a.id, password: 'nope', reconnectPeriod: 0 })
      .catch((e: Error & { code?: number }) => e);
    expect(wrong).toBeInstanceOf(Error);
    expect((wrong as { code?: number }).code).toBe(4);
    const unknown = await mqtt
      .connectAsync(t.addresses.mqttUrl, { username: 'ghost-1', password: 'x', reconnectPeriod: 0 })
      .catch((e: Error & { code?: number }) => e);
    expect((unknown as { code?: number }).code).toBe(4);
  });

  it('a will on another topic than the device status is refused', async () => {
    const res = await mqtt
      .connectAsync(t.addresses.mqttUrl, {
        username: a.id,
        password: a.password,
        reconnectPeriod: 0,
        will: { topic: `devices/${b.id}/status`, payload: Buffer.from('offline'), qos: 1, retain: true },
      })
      .catch((e: Error & { code?: number }) => e);
    expect((res as { code?: number }).code).toBe(5);
  });

  it('a client id in use by one device cannot be taken by another', async () => {
    await t.connect(b.id, b.password, { clientId: 'shared-id' });
    const res = await mqtt
      .connectAsync(t.addresses.mqttUrl, {
        username: a.id,
        password: a.password,
        clientId: 'shared-id',
        reconnectPeriod: 0,
      })
      .catch((e: Error & { code?: number }) => e);
    expect((res as { code?: number }).code).toBe(2);
  });

  it('disabling a connected device disconnects it at once and refuses it afterwards', async () => {
    const c = await t.provision('emf-probe', 'Old Town');
    const client = await t.connect(c.id, c.password);
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    const res = await t.api('POST', `/api/devices/${c.id}/disable`);
    expect(res.status).toBe(200);
    await closed;
    const again = await mqtt
      .connectAsync(t.addresses.mqttUrl, { username: c.id, password: c.password, reconnectPeriod: 0 })
      .catch((e: Error & { code?: number }) => e);
    expect((again as { code?: number }).code).toBe(5);
  });

  it('rotating a password cuts the old one at once', async () => {
    const d = await t.provision('emf-probe', 'Old Town');
    const client = await t.connect(d.id, d.password);
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    const res = await t.api<{ password: string }>('POST', `/api/devices/${d.id}/rotate-password`);
    await closed;
    const old = await mqtt
      .connectAsync(t.addresses.mqttUrl, { username: d.id, password: d.password, reconnectPeriod: 0 })
      .catch((e: Error & { code?: number }) => e);
    expect((old as { code?: number }).code).toBe(4);
    const fresh = await t.connect(d.id, res.body.password, { clientId: `${d.id}:fresh` });
    expect(fresh.connected).toBe(true);
  });

  it('device status is published retained: online on connect, offline on disconnect', async () => {
    const e = await t.provision('emf-probe', 'Harbour');
    const client = await t.connect(e.id, e.password);
    await t.platform.ingest.drain();
    expect(t.platform.registry.get(e.id)?.online).toBe(true);
    const offline = new Promise<void>((resolve) =>
      t.platform.events.on('device-status', (s) => s.deviceId === e.id && !s.online && resolve()),
    );
    await client.endAsync();
    await offline;
    expect(t.platform.registry.get(e.id)?.online).toBe(false);
  });
});
