import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../helpers/platform-harness.ts';

/**
 * The MQTT ACL as a matrix: for each of two devices, publish and subscribe on every topic shape (its own
 * channels, the other device's, wildcards, system and internal topics). Allowed publishes are accepted;
 * refused ones get their code on the device's errors topic. Subscriptions are granted only for the
 * device's own `errors` and `commands`; everything else gets SUBACK 0x80.
 */
type Shape = { name: string; topic: (self: string, other: string) => string };

const PUBLISH: Array<Shape & { allowed: boolean; code?: string; payload: string }> = [
  { name: 'own telemetry', topic: (s) => `devices/${s}/telemetry`, allowed: true, payload: 'reading' },
  { name: 'own events', topic: (s) => `devices/${s}/events`, allowed: true, payload: 'event' },
  { name: 'own status', topic: (s) => `devices/${s}/status`, allowed: true, payload: 'online' },
  {
    name: 'own errors',
    topic: (s) => `devices/${s}/errors`,
    allowed: false,
    code: 'GATEWAY_NOT_AUTHORIZED',
    payload: '{}',
  },
  {
    name: 'own commands',
    topic: (s) => `devices/${s}/commands`,
    allowed: false,
    code: 'GATEWAY_NOT_AUTHORIZED',
    payload: '{}',
  },
  {
    name: "other's telemetry",
    topic: (_s, o) => `devices/${o}/telemetry`,
    allowed: false,
    code: 'GATEWAY_NOT_AUTHORIZED',
    payload: 'reading',
  },
  {
    name: "other's events",
    topic: (_s, o) => `devices/${o}/events`,
    allowed: false,
    code: 'GATEWAY_NOT_AUTHORIZED',
    payload: 'event',
  },
  {
    name: "other's status",
    topic: (_s, o) => `devices/${o}/status`,
    allowed: false,
    code: 'GATEWAY_NOT_AUTHORIZED',
    payload: 'offline',
  },
  {
    name: "other's errors",
    topic: (_s, o) => `devices/${o}/errors`,
    allowed: false,
    code: 'GATEWAY_NOT_AUTHORIZED',
    payload: '{}',
  },
  {
    name: "other's commands",
    topic: (_s, o) => `devices/${o}/commands`,
    allowed: false,
    code: 'GATEWAY_NOT_AUTHORIZED',
    payload: '{}',
  },
  {
    name: 'unknown channel',
    topic: (s) => `devices/${s}/config`,
    allowed: false,
    code: 'GATEWAY_NOT_AUTHORIZED',
    payload: '{}',
  },
  {
    name: 'device root',
    topic: (s) => `devices/${s}`,
    allowed: false,
    code: 'GATEWAY_TOPIC_INVALID',
    payload: 'reading',
  },
  {
    name: 'extra level',
    topic: (s) => `devices/${s}/telemetry/x`,
    allowed: false,
    code: 'GATEWAY_TOPIC_INVALID',
    payload: 'reading',
  },
  {
    name: 'unregistered device',
    topic: () => 'devices/ghost-1/telemetry',
    allowed: false,
    code: 'GATEWAY_NOT_AUTHORIZED',
    payload: 'reading',
  },
  {
    name: 'internal sink',
    topic: () => '$citymetrics/refused',
    allowed: false,
    code: 'GATEWAY_TOPIC_INVALID',
    payload: '{}',
  },
  {
    name: '$SYS',
    topic: () => '$SYS/broker/uptime',
    allowed: false,
    code: 'GATEWAY_TOPIC_INVALID',
    payload: '1',
  },
  {
    name: 'city topic',
    topic: () => 'city/announcements',
    allowed: false,
    code: 'GATEWAY_TOPIC_INVALID',
    payload: '{}',
  },
];

const SUBSCRIBE: Array<Shape & { granted: boolean }> = [
  { name: 'own errors', topic: (s) => `devices/${s}/errors`, granted: true },
  { name: 'own commands', topic: (s) => `devices/${s}/commands`, granted: true },
  { name: 'own telemetry', topic: (s) => `devices/${s}/telemetry`, granted: false },
  { name: 'own status', topic: (s) => `devices/${s}/status`, granted: false },
  { name: 'own events', topic: (s) => `devices/${s}/events`, granted: false },
  { name: 'own everything', topic: (s) => `devices/${s}/#`, granted: false },
  { name: 'own any channel', topic: (s) => `devices/${s}/+`, granted: false },
  { name: "other's errors", topic: (_s, o) => `devices/${o}/errors`, granted: false },
  { name: "other's commands", topic: (_s, o) => `devices/${o}/commands`, granted: false },
  { name: "other's telemetry", topic: (_s, o) => `devices/${o}/telemetry`, granted: false },
  { name: "everyone's errors", topic: () => 'devices/+/errors', granted: false },
  { name: 'everything', topic: () => '#', granted: false },
  { name: 'all devices', topic: () => 'devices/#', granted: false },
  { name: 'internal sink', topic: () => '$citymetrics/refused', granted: false },
  { name: 'internal all', topic: () => '$citymetrics/#', granted: false },
  { name: '$SYS', topic: () => '$SYS/#', granted: false },
  { name: 'shared subscription', topic: (s) => `$share/g/devices/${s}/errors`, granted: false },
];

describe('MQTT ACL matrix', () => {
  let t: TestPlatform;
  const devs: Array<{ id: string; password: string }> = [];
  const clients: MqttClient[] = [];
  beforeAll(async () => {
    t = await startTestPlatform({ deviceRateLimitPerSec: 10_000 });
    for (const d of ['Old Town', 'Harbour']) devs.push(await t.provision('noise-monitor', d));
    for (const d of devs) {
      const c = await t.connect(d.id, d.password);
      await c.subscribeAsync(`devices/${d.id}/errors`, { qos: 1 });
      clients.push(c);
    }
  });
  afterAll(async () => {
    await t.close();
  });

  let tsCounter = Date.now() - 600_000;
  const payloadOf = (kind: string) =>
    kind === 'reading'
      ? JSON.stringify({ ts: ++tsCounter, values: { laeq: 42 } })
      : kind === 'event'
        ? JSON.stringify({ ts: ++tsCounter, type: 'calibration' })
        : kind;

  /** Errors the device receives, in order; a sentinel error after each publish shows nothing came before it. */
  const nextErrors = (c: MqttClient, self: string, n: number) =>
    new Promise<Array<Record<string, unknown>>>((resolve) => {
      const got: Array<Record<string, unknown>> = [];
      const onMessage = (topic: string, payload: Buffer) => {
        if (topic !== `devices/${self}/errors`) return;
        got.push(JSON.parse(payload.toString()) as Record<string, unknown>);
        if (got.length === n) {
          c.off('message', onMessage);
          resolve(got);
        }
      };
      c.on('message', onMessage);
    });

  for (const [i, who] of ['first', 'second'].entries()) {
    it.each(PUBLISH)(
      `${who} device publishes on $name: allowed $allowed`,
      async ({ topic, allowed, code, payload }) => {
        const self = devs[i]!;
        const other = devs[1 - i]!;
        const c = clients[i]!;
        const acceptedBefore = t.platform.ingest.stats().accepted.messages;
        // The publish under test, then a sentinel that is always refused (invalid JSON on own telemetry).
        const errors = nextErrors(c, self.id, allowed ? 1 : 2);
        await c.publishAsync(topic(self.id, other.id), payloadOf(payload), { qos: 1 });
        await c.publishAsync(`devices/${self.id}/telemetry`, 'not json', { qos: 1 });
        const got = await errors;
        if (allowed) {
          expect(got.map((e) => e.code)).toEqual(['INGEST_MALFORMED_JSON']);
        } else {
          expect(got.map((e) => e.code)).toEqual([code, 'INGEST_MALFORMED_JSON']);
        }
        await t.platform.ingest.drain();
        const status = payload === 'online' || payload === 'offline';
        expect(t.platform.ingest.stats().accepted.messages - acceptedBefore).toBe(allowed && !status ? 1 : 0);
      },
    );

    it.each(SUBSCRIBE)(`${who} device subscribes to $name: granted $granted`, async ({ topic, granted }) => {
      const self = devs[i]!;
      const other = devs[1 - i]!;
      const result = await clients[i]!.subscribeAsync(topic(self.id, other.id), { qos: 1 }).then(
        (grants) => grants.map((g) => g.qos),
        (err: { packet?: { granted?: number[] } }) => err.packet?.granted ?? ['error'],
      );
      expect(result).toEqual([granted ? 1 : 128]);
    });
  }

  it("a refused publish reaches no subscriber, not even the other device's own errors topic", async () => {
    const [a, b] = devs as unknown as [{ id: string }, { id: string }];
    const received: string[] = [];
    const onB = (topic: string, payload: Buffer) => received.push(`${topic} ${payload.toString()}`);
    clients[1]!.on('message', onB);
    const errorsA = nextErrors(clients[0]!, a.id, 1);
    await clients[0]!.publishAsync(`devices/${b.id}/errors`, '{"code":"FORGED"}', { qos: 1 });
    await errorsA;
    // b's own sentinel error arrives; nothing forged came before it.
    const errorsB = nextErrors(clients[1]!, b.id, 1);
    await clients[1]!.publishAsync(`devices/${b.id}/telemetry`, 'not json', { qos: 1 });
    await errorsB;
    clients[1]!.off('message', onB);
    expect(received.some((r) => r.includes('FORGED'))).toBe(false);
  });
});
