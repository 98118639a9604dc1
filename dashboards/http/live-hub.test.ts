import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { LatestCoalescer, type LatestItem } from '../live/latest-coalescer.ts';
import { type HttpHarness, startHttpHarness, T0 } from './http-test-harness.ts';

let h: HttpHarness;

beforeAll(async () => {
  h = await startHttpHarness({ config: { cityName: 'Testville' } });
});
afterAll(async () => {
  await h.close();
});

function client(token?: unknown): Socket {
  const socket = io(h.url, {
    path: '/socket.io',
    transports: ['websocket'],
    reconnection: false,
    ...(token === undefined ? {} : { auth: { token } }),
  });
  onTestFinished(() => {
    socket.close();
  });
  return socket;
}

const next = <T>(socket: Socket, event: string): Promise<T> =>
  new Promise((resolve) => socket.once(event, (payload: T) => resolve(payload)));

/** Moves the harness's clock through one push period: the push timer runs once on the way. */
const pushPeriod = () => h.clock.advance(h.config.livePushIntervalMs);

/** Milliseconds until the next instant a timer of this period, set when the hub was built (at T0), is due. */
const untilDue = (periodMs: number) => periodMs - ((h.clock.now() - T0) % periodMs);

async function connected(token: string): Promise<{ socket: Socket; snapshot: { items: LatestItem[] } }> {
  const socket = client(token);
  const snapshot = next<{ items: LatestItem[] }>(socket, 'snapshot');
  await next(socket, 'connect');
  return { socket, snapshot: await snapshot };
}

describe('live hub', () => {
  it('refuses a connection without a key or with a bad one: connect_error API_UNAUTHENTICATED', async () => {
    for (const token of [undefined, 'cmk_0000_wrong', 42]) {
      const socket = client(token);
      const err = await next<Error & { data?: { code?: string } }>(socket, 'connect_error');
      expect([String(token), err.data?.code]).toEqual([String(token), 'API_UNAUTHENTICATED']);
      expect(socket.connected).toBe(false);
    }
  });

  it('greets a viewer with the city, a snapshot and the ingest stats', async () => {
    const socket = client(h.tokens.viewer);
    const hello = next<Record<string, unknown>>(socket, 'hello');
    const stats = next<{ refused: { total: number }; rates: { acceptedPerSec: number } }>(socket, 'stats');
    expect(await hello).toEqual({
      cityName: 'Testville',
      timezone: 'UTC',
      keyName: 'viewer key',
      role: 'viewer',
      pushIntervalMs: 10,
    });
    expect(await stats).toEqual(JSON.parse(JSON.stringify(h.ingest.stats())));
  });

  it('pushes latest values coalesced: one item per device and metric, the newest reading time wins', async () => {
    const { socket } = await connected(h.tokens.viewer);
    const pushed = next<{ items: LatestItem[] }>(socket, 'latest');
    const base = { deviceId: 'aq-live0001', kind: 'air-quality-station', district: 'Harbour' };
    // Emitted in one tick, so all of it lands before one push; the back-filled 12 must not win.
    h.events.emit('readings', {
      ...base,
      values: [
        { metric: 'pm25', ts: T0, value: 10 },
        { metric: 'no2', ts: T0, value: 30 },
      ],
    });
    h.events.emit('readings', { ...base, values: [{ metric: 'pm25', ts: T0 + 60_000, value: 11 }] });
    h.events.emit('readings', { ...base, values: [{ metric: 'pm25', ts: T0 - 60_000, value: 12 }] });
    pushPeriod();
    const { items } = await pushed;
    const byMetric = Object.fromEntries(items.map((i) => [i.metric, i]));
    expect(items).toHaveLength(2);
    expect(byMetric.pm25).toEqual({ ...base, metric: 'pm25', value: 11, ts: T0 + 60_000, unit: 'µg/m³' });
    expect(byMetric.no2).toMatchObject({ value: 30, unit: 'µg/m³' });

    // A client arriving later gets the same picture at once.
    const late = await connected(h.tokens.viewer);
    const seen = late.snapshot.items
      .filter((i) => i.deviceId === base.deviceId)
      .map((i) => [i.metric, i.value]);
    expect(seen.sort()).toEqual([
      ['no2', 30],
      ['pm25', 11],
    ]);
  });

  it('pushes device status changes and refusal counts by reason', async () => {
    const { device } = await h.registry.provision({ kind: 'noise-monitor', district: 'Docks' });
    const { socket } = await connected(h.tokens.viewer);
    const status = next<{ items: unknown[] }>(socket, 'device-status');
    const refused = next<{ total: number; byReason: Record<string, number> }>(socket, 'refused');
    h.events.emit('device-status', { deviceId: device.id, online: true, at: T0 });
    h.events.emit('device-status', { deviceId: device.id, online: false, at: T0 + 1 });
    h.events.emit('refused', { deviceId: device.id, code: 'INGEST_OUT_OF_RANGE', at: T0 });
    h.events.emit('refused', { deviceId: null, code: 'GATEWAY_BAD_CREDENTIALS', at: T0 });
    h.events.emit('refused', { deviceId: device.id, code: 'INGEST_OUT_OF_RANGE', at: T0 });
    pushPeriod();
    expect((await status).items).toEqual([
      { deviceId: device.id, kind: 'noise-monitor', district: 'Docks', online: false, at: T0 + 1 },
    ]);
    expect(await refused).toEqual({
      total: 3,
      byReason: { INGEST_OUT_OF_RANGE: 2, GATEWAY_BAD_CREDENTIALS: 1 },
    });
  });

  it('pushes what the real ingest service accepts, and the API then serves it from the store', async () => {
    const { device } = await h.registry.provision({ kind: 'air-quality-station', district: 'Harbour' });
    const { socket } = await connected(h.tokens.viewer);
    const pushed = next<{ items: LatestItem[] }>(socket, 'latest');
    // now, where the clock's push periods have moved it: the device is installed from its provisioning
    const ts = new Date(h.clock.now()).toISOString();
    const payload = Buffer.from(
      JSON.stringify({ ts, values: { pm25: 8.5, no2: { value: 10, unit: 'ppb' } } }),
    );
    expect(await h.ingest.submit(device.id, 'telemetry', payload)).toEqual({ ok: true, accepted: 2 });
    pushPeriod();
    const { items } = await pushed;
    expect(items.map((i) => [i.deviceId, i.metric, i.value, i.unit]).sort()).toEqual([
      // 10 ppb NO2 at 20 °C and 101.325 kPa
      [device.id, 'no2', expect.closeTo((10 * 46.0055 * 101.325) / (8.314462618 * 293.15), 9), 'µg/m³'],
      [device.id, 'pm25', 8.5, 'µg/m³'],
    ]);
    await h.ingest.drain();
    const latest = await h.api<{ values: Array<{ metric: string; value: number; ts: string }> }>(
      'GET',
      `/api/devices/${device.id}/latest`,
      { token: h.tokens.viewer },
    );
    expect(latest.body.values.map((v) => [v.metric, v.value, v.ts]).sort()).toEqual([
      ['no2', expect.closeTo((10 * 46.0055 * 101.325) / (8.314462618 * 293.15), 9), ts],
      ['pm25', 8.5, ts],
    ]);
  });

  it('pushes when the clock reaches the push period, and the stats theirs, not a millisecond before', async () => {
    // A probe's key is revoked at an instant of the clock: `revoked` travels on its socket after anything
    // pushed before it, so what the probe saw before `revoked` is what was pushed up to that instant.
    const probe = async (pushed: string) => {
      const { key, token } = await h.apiKeys.create({ name: 'probe', role: 'viewer' });
      const socket = client(token);
      await next(socket, 'stats'); // the greeting's stats follow its snapshot
      const seen: string[] = [];
      socket.onAny((event: string) => {
        if (event === pushed || event === 'revoked') seen.push(event);
      });
      return async () => {
        const told = next(socket, 'revoked');
        h.apiKeys.revoke(key.id);
        await told;
        return seen;
      };
    };
    const { socket } = await connected(h.tokens.viewer);
    const [beforePush, atPush] = [await probe('latest'), await probe('latest')];
    const [beforeStats, atStats] = [await probe('stats'), await probe('stats')];
    const latest = next<{ items: LatestItem[] }>(socket, 'latest');
    h.events.emit('readings', {
      deviceId: 'aq-live0002',
      kind: 'air-quality-station',
      district: 'Harbour',
      values: [{ metric: 'pm25', ts: T0, value: 4 }],
    });
    h.clock.advance(untilDue(h.config.livePushIntervalMs) - 1);
    expect(await beforePush()).toEqual(['revoked']);
    h.clock.advance(1);
    expect(await atPush()).toEqual(['latest', 'revoked']);
    expect((await latest).items.map((i) => [i.deviceId, i.value])).toEqual([['aq-live0002', 4]]);
    h.clock.advance(untilDue(1_000) - 1);
    expect(await beforeStats()).toEqual(['revoked']);
    h.clock.advance(1);
    expect(await atStats()).toEqual(['stats', 'revoked']);
  });

  it('disconnects a client at once when its key is revoked', async () => {
    const { key, token } = await h.apiKeys.create({ name: 'wall screen', role: 'viewer' });
    const { socket } = await connected(token);
    const told = next<{ code: string }>(socket, 'revoked');
    const reason = next<string>(socket, 'disconnect');
    h.apiKeys.revoke(key.id);
    expect((await told).code).toBe('API_UNAUTHENTICATED');
    expect(await reason).toBe('io server disconnect');
    const again = client(token);
    expect((await next<{ data?: { code?: string } }>(again, 'connect_error')).data?.code).toBe(
      'API_UNAUTHENTICATED',
    );
  });
});

describe('LatestCoalescer', () => {
  const item = (deviceId: string, metric: string, ts: number, value: number): LatestItem => ({
    deviceId,
    kind: 'k',
    district: 'd',
    metric,
    ts,
    value,
    unit: null,
  });

  it('drains only what changed since the last drain, newest timestamp first', () => {
    const c = new LatestCoalescer(10);
    c.offer(item('a', 'x', 2, 2));
    c.offer(item('a', 'x', 1, 1));
    expect(c.drain().map((i) => i.value)).toEqual([2]);
    expect(c.drain()).toEqual([]);
    c.offer(item('a', 'x', 1, 9)); // older: ignored, nothing to push
    expect(c.drain()).toEqual([]);
    expect(c.snapshot().map((i) => i.value)).toEqual([2]);
  });

  it('is bounded: past its size the series updated longest ago is dropped', () => {
    const c = new LatestCoalescer(2);
    c.offer(item('a', 'x', 1, 1));
    c.offer(item('b', 'x', 1, 1));
    c.offer(item('a', 'x', 2, 2)); // a is now the most recent
    c.offer(item('c', 'x', 1, 1));
    expect(c.size).toBe(2);
    expect(c.evicted).toBe(1);
    expect(c.snapshot().map((i) => i.deviceId)).toEqual(['a', 'c']);
    expect(c.drain().map((i) => i.deviceId)).toEqual(['a', 'c']);
  });
});
