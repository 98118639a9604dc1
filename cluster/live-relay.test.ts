import { setImmediate as nextTurn } from 'node:timers/promises';
import { headers, type Msg, type NatsConnection } from 'nats';
import { describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../core/logger.ts';
import {
  type DeviceEventAccepted,
  type DeviceStatusChanged,
  type MessageRefused,
  PlatformEvents,
  type ReadingsAccepted,
} from '../core/platform-events.ts';
import { createTelemetry } from '../core/telemetry.ts';
import { encodeEvent, encodeReadings, ORIGIN_HEADER } from '../ingest/cluster/log-message.ts';
import { encodeStatus, publishDeviceStatus } from './device-status-link.ts';
import { encodeHeartbeat } from './edge-liveness.ts';
import { buildLiveRelay, type LiveRelayOptions } from './live-relay.ts';

/**
 * The relay's bound and its filters, driven message by message. The NATS client calls a subscription's
 * callback synchronously as it parses what the server sent; here the test is that parser, so how many
 * messages arrive before the relay's next turn is decided by the test, not by the network (the relay on a
 * real nats-server between processes: test/cluster/live-across-nodes.test.ts).
 */

type Callback = (err: null, msg: Msg) => void;

function harness(options: Partial<LiveRelayOptions> = {}) {
  const callbacks = new Map<string, Callback>();
  const nc: Pick<NatsConnection, 'subscribe'> = {
    subscribe(subject, opts) {
      callbacks.set(subject, opts?.callback as Callback);
      const unsubscribe = () => {
        callbacks.delete(subject);
      };
      return { unsubscribe } as unknown as ReturnType<NatsConnection['subscribe']>;
    },
  };
  const events = new PlatformEvents();
  const telemetry = createTelemetry();
  const relay = buildLiveRelay(
    { nc, events, telemetry, logger: silentLogger() },
    { subjectPrefix: 'cm', origin: 'me', ...options },
  );
  relay.start();
  const readings: ReadingsAccepted[] = [];
  const deviceEvents: DeviceEventAccepted[] = [];
  const statuses: DeviceStatusChanged[] = [];
  events.on('readings', (r) => readings.push(r));
  events.on('device-event', (e) => deviceEvents.push(e));
  events.on('device-status', (s) => statuses.push(s));
  const deliver = (subject: string, data: Uint8Array, hdrs: Record<string, string> = {}) => {
    const callback = callbacks.get(subject.replace(/\.[^.]+$/, '.*'));
    if (callback === undefined) throw new Error(`no subscription for ${subject}`);
    const h = headers();
    for (const [k, v] of Object.entries(hdrs)) h.set(k, v);
    callback(null, { subject, data, headers: h } as unknown as Msg);
  };
  const metric = async (name: string, labels: Record<string, string>) => {
    const m = (await telemetry.registry.getMetricsAsJSON()).find((x) => x.name === name);
    return m?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value ?? 0;
  };
  return { relay, callbacks, deliver, readings, deviceEvents, statuses, metric, events };
}

const ctx = { deviceId: 'aq-1', kind: 'air-quality-station', district: 'D1' };
const reading = (ts: number, value: number) => encodeReadings(ctx, [{ metric: 'pm25', ts, value }]);

describe('live relay', () => {
  it('announces readings, device events and statuses of other nodes as the platform events ingest emits', async () => {
    const h = harness();
    expect([...h.callbacks.keys()].sort()).toEqual([
      'cm.edges.*',
      'cm.events.*',
      'cm.readings.*',
      'cm.status.*',
    ]);
    h.deliver('cm.readings.3', reading(1_000, 12.5), { 'Nats-Msg-Id': 'aq-1/r/a' });
    const event = { ...ctx, type: 'calibration', ts: 2_000, data: { ok: true } };
    h.deliver('cm.events.3', encodeEvent(event), { 'Nats-Msg-Id': 'aq-1/e/calibration/2000' });
    h.deliver('cm.status.aq-1', encodeStatus({ deviceId: 'aq-1', online: true, at: 3_000 }));
    expect(h.readings).toEqual([]); // announced on the relay's next turn, not inside the NATS callback
    await nextTurn();
    expect(h.readings).toEqual([{ ...ctx, values: [{ metric: 'pm25', ts: 1_000, value: 12.5 }] }]);
    expect(h.deviceEvents).toEqual([event]);
    expect(h.statuses).toEqual([{ deviceId: 'aq-1', online: true, at: 3_000 }]);
    expect(h.relay.stats()).toMatchObject({ relayed: 3, dropped: 0, pending: 0, slow: false });
    expect(await h.metric('citymetrics_live_relayed_total', { channel: 'status' })).toBe(1);
    await h.relay.close();
    expect(h.callbacks.size).toBe(0);
  });

  it("skips this process's own publishes and a resend with a message id seen lately; counts what does not decode", async () => {
    const h = harness();
    h.deliver('cm.readings.0', reading(1_000, 1), { [ORIGIN_HEADER]: 'me', 'Nats-Msg-Id': 'x/r/1' });
    h.deliver('cm.readings.0', reading(2_000, 2), { [ORIGIN_HEADER]: 'edge-b', 'Nats-Msg-Id': 'x/r/2' });
    h.deliver('cm.readings.0', reading(2_000, 2), { [ORIGIN_HEADER]: 'edge-b', 'Nats-Msg-Id': 'x/r/2' });
    h.deliver('cm.status.aq-1', encodeStatus({ deviceId: 'aq-1', online: false, at: 5 }), {
      [ORIGIN_HEADER]: 'me',
    });
    h.deliver('cm.readings.0', Buffer.from('{"v":99}'));
    await nextTurn();
    expect(h.readings.map((r) => r.values[0]?.value)).toEqual([2]);
    expect(h.statuses).toEqual([]);
    expect(h.relay.stats()).toMatchObject({ relayed: 1, dropped: 1 });
    expect(await h.metric('citymetrics_live_relay_dropped_total', { reason: 'undecodable' })).toBe(1);
    await h.relay.close();
  });

  it('holds at most maxPendingMessages: past it messages are dropped and counted, it says slow until it caught up', async () => {
    const h = harness({ maxPendingMessages: 3, batchMessages: 2 });
    for (let i = 0; i < 10; i++)
      h.deliver('cm.readings.1', reading(i * 1_000, i), { 'Nats-Msg-Id': `aq-1/r/${i}` });
    expect(h.relay.stats()).toMatchObject({ pending: 3, dropped: 7, slow: true });
    expect(await h.metric('citymetrics_live_relay_dropped_total', { reason: 'pending-limit' })).toBe(7);
    expect(await h.metric('citymetrics_live_relay_slow', {})).toBe(1);
    await nextTurn(); // one batch of two
    expect(h.readings).toHaveLength(2);
    expect(h.relay.stats()).toMatchObject({ pending: 1, slow: true });
    await nextTurn();
    expect(h.readings.map((r) => r.values[0]?.value)).toEqual([0, 1, 2]);
    expect(h.relay.stats()).toMatchObject({ pending: 0, relayed: 3, slow: false });
    expect(await h.metric('citymetrics_live_relay_slow', {})).toBe(0);
    // A dropped message's id is not remembered: its resend is announced.
    h.deliver('cm.readings.1', reading(9_000, 9), { 'Nats-Msg-Id': 'aq-1/r/9' });
    await nextTurn();
    expect(h.readings.at(-1)?.values[0]?.value).toBe(9);
    await h.relay.close();
  });

  it('bounds the bytes held as well as the messages', async () => {
    const one = reading(1_000, 1).byteLength;
    const h = harness({ maxPendingBytes: one * 2 });
    for (let i = 0; i < 5; i++) h.deliver('cm.readings.1', reading(1_000, 1));
    expect(h.relay.stats()).toMatchObject({ pending: 2, pendingBytes: one * 2, dropped: 3 });
    await h.relay.close();
    expect(h.relay.stats()).toMatchObject({ pending: 0, pendingBytes: 0 });
  });

  it('reports offline the devices of an edge that went silent, not those that moved to another edge', async () => {
    let clock = 1_000;
    const h = harness({ edgeSilentMs: 200, now: () => clock });
    const status = (deviceId: string, online: boolean, edge: string) =>
      h.deliver(`cm.status.${deviceId}`, encodeStatus({ deviceId, online, at: Date.now() }), {
        [ORIGIN_HEADER]: edge,
      });
    const beat = (edge: string) => h.deliver(`cm.edges.${edge}`, new Uint8Array(), { [ORIGIN_HEADER]: edge });
    beat('edge-a');
    status('aq-1', true, 'edge-a');
    status('aq-2', true, 'edge-a');
    status('aq-3', true, 'edge-a');
    status('aq-3', false, 'edge-a'); // left cleanly
    await nextTurn();
    h.relay.sweepEdges(clock);
    expect(h.statuses.map((s) => `${s.deviceId}:${s.online}`)).toEqual([
      'aq-1:true',
      'aq-2:true',
      'aq-3:true',
      'aq-3:false',
    ]);
    // edge-a is killed (no more beats); aq-2 reconnects through edge-b, which beats on
    clock += 150;
    beat('edge-b');
    status('aq-2', true, 'edge-b');
    await nextTurn();
    const before = h.statuses.length;
    h.relay.sweepEdges(clock + 100); // edge-a silent for 250 ms, edge-b for 100
    expect(h.statuses.slice(before).map((s) => `${s.deviceId}:${s.online}`)).toEqual(['aq-1:false']);
    // a sweep again reports nothing twice
    h.relay.sweepEdges(clock + 100);
    expect(h.statuses).toHaveLength(before + 1);
    await h.relay.close();
  });

  it('announces the refusals an edge counted in its heartbeat, bounded, never its own; an empty or unreadable beat still says the edge lives', async () => {
    await refusalsCase(harness(), []);
  });

  it('an edge counts what it refused between two heartbeats and sends the counts with the next', () => {
    const published: Array<{ subject: string; data: Uint8Array }> = [];
    const nc = {
      isClosed: () => false,
      isDraining: () => false,
      publish: (subject: string, data: Uint8Array) => published.push({ subject, data }),
    } as unknown as NatsConnection;
    const events = new PlatformEvents();
    vi.useFakeTimers();
    try {
      const stop = publishDeviceStatus(
        { nc, events, logger: silentLogger() },
        { subjectPrefix: 'cm', origin: 'edge-a', heartbeatMs: 1_000 },
      );
      events.emit('refused', { deviceId: 'aq-1', code: 'INGEST_SCHEMA', at: 1 });
      events.emit('refused', { deviceId: 'aq-2', code: 'INGEST_SCHEMA', at: 2 });
      events.emit('refused', { deviceId: null, code: 'GATEWAY_BAD_CREDENTIALS', at: 3 });
      vi.advanceTimersByTime(1_000);
      vi.advanceTimersByTime(1_000);
      stop();
      const beats = published
        .filter((p) => p.subject === 'cm.edges.edge-a')
        .map((p) => JSON.parse(Buffer.from(p.data).toString()));
      expect(beats).toEqual([
        { v: 1, refused: { INGEST_SCHEMA: 2, GATEWAY_BAD_CREDENTIALS: 1 } },
        { v: 1, refused: {} },
      ]);
    } finally {
      vi.useRealTimers();
    }
  });
});

async function refusalsCase(h: ReturnType<typeof harness>, refused: MessageRefused[]): Promise<void> {
  h.events.on('refused', (r) => refused.push(r));
  const beat = (origin: string, data: Uint8Array) =>
    h.deliver(`cm.edges.${origin}`, data, { [ORIGIN_HEADER]: origin });
  beat(
    'edge-b',
    encodeHeartbeat(
      new Map([
        ['INGEST_SCHEMA', 3],
        ['GATEWAY_NOT_AUTHORIZED', 1],
      ]),
    ),
  );
  expect(refused.map((r) => r.code)).toEqual([
    'INGEST_SCHEMA',
    'INGEST_SCHEMA',
    'INGEST_SCHEMA',
    'GATEWAY_NOT_AUTHORIZED',
  ]);
  expect(refused.every((r) => r.deviceId === null)).toBe(true);
  beat('me', encodeHeartbeat(new Map([['INGEST_SCHEMA', 5]])));
  expect(refused).toHaveLength(4);
  beat('edge-c', encodeHeartbeat(new Map([['INGEST_SCHEMA', 50_000]])));
  expect(refused).toHaveLength(4 + 10_000);
  beat('edge-d', new Uint8Array());
  beat('edge-e', Buffer.from('{"v":7}'));
  expect(refused).toHaveLength(4 + 10_000);
  expect(h.relay.stats().dropped).toBe(1);
  // edge-e and edge-d count as heard: no device of theirs, nothing to report, but no error either
  await h.relay.close();
}
