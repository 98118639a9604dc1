import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../simulators/prng.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/platform-harness.ts';
import { connectPacket, headerClaiming, openRaw, packet, receivedAtLeast } from './raw-mqtt.ts';

/**
 * Raw bytes on the MQTT port: random and truncated packets, malformed ones after a good CONNECT, oversized
 * frames, slow-loris connections and a connection limit. After each case a well-behaved device still gets
 * its QoS 1 reading acknowledged and stored: the broker stays up for everyone else.
 */
const CONNECT_TIMEOUT_MS = 400;
const MAX_CONNECTIONS = 40;

describe('raw TCP fuzz on the MQTT port', () => {
  let t: TestPlatform;
  let good: MqttClient;
  let goodId: string;
  let fuzzDevice: { id: string; password: string };
  let readingTs = Date.now() - 60_000;

  beforeAll(async () => {
    t = await startTestPlatform({
      mqttConnectTimeoutMs: CONNECT_TIMEOUT_MS,
      mqttMaxConnections: MAX_CONNECTIONS,
      mqttMaxPayloadBytes: 4_096,
    });
    const dev = await t.provision('noise-monitor', 'Old Town');
    goodId = dev.id;
    good = await t.connect(dev.id, dev.password);
    fuzzDevice = await t.provision('noise-monitor', 'Harbour');
  });
  afterAll(async () => {
    await t.close();
  });

  /** The good device publishes one reading, gets its PUBACK, and the reading is stored. */
  const stillServing = async () => {
    readingTs += 1_000;
    await good.publishAsync(
      `devices/${goodId}/telemetry`,
      JSON.stringify({ ts: readingTs, values: { laeq: 50 } }),
      {
        qos: 1,
      },
    );
    await t.platform.ingest.drain();
    const latest = await t.api<{ values: Array<{ ts: string }> }>('GET', `/api/devices/${goodId}/latest`);
    expect(Date.parse(latest.body.values[0]!.ts)).toBe(readingTs);
  };

  const refused = async (code: string) =>
    (await t.api<{ refused: { byReason: Record<string, number> } }>('GET', '/api/ingest/stats')).body.refused
      .byReason[code] ?? 0;

  it('random byte strings: every such connection is closed, the broker keeps serving', async () => {
    const rand = mulberry32(20_240_601);
    const conns = [];
    for (let i = 0; i < 30; i++) {
      const conn = await openRaw(t.addresses.mqttPort);
      const bytes = Buffer.alloc(1 + Math.floor(rand.next() * 512));
      for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(rand.next() * 256);
      conn.write(bytes);
      conns.push(conn);
    }
    // Garbage is a protocol error at once, or (a length that never completes) the CONNECT timeout.
    await Promise.all(conns.map((c) => c.closed));
    for (const c of conns) expect(c.socket.destroyed).toBe(true);
    await stillServing();
  });

  it('truncated CONNECT packets and a silent connection are cut by the connect timeout', async () => {
    const full = connectPacket(fuzzDevice.id, fuzzDevice.password, 'truncated');
    const conns = [];
    for (const cut of [1, 2, 5, Math.floor(full.length / 2), full.length - 1]) {
      const conn = await openRaw(t.addresses.mqttPort);
      conn.write(full.subarray(0, cut));
      conns.push(conn);
    }
    conns.push(await openRaw(t.addresses.mqttPort)); // slow-loris: connects, never says a word
    await Promise.all(conns.map((c) => c.closed));
    // None of them got a CONNACK: the timeout closed them, not a late login.
    for (const c of conns) expect(c.received().length).toBe(0);
    await stillServing();
  });

  it('a slow-loris trickling a CONNECT byte by byte is cut at the deadline, not kept alive by each byte', async () => {
    const full = connectPacket(fuzzDevice.id, fuzzDevice.password, 'loris');
    const conn = await openRaw(t.addresses.mqttPort);
    let sent = 0;
    // One byte each time the broker's side of the connection acknowledges the previous one (drain),
    // bounded so the test cannot run away: the connection must close before the packet completes.
    const trickle = setInterval(() => {
      if (sent < full.length - 1) conn.write(full.subarray(sent, ++sent));
    }, CONNECT_TIMEOUT_MS / 8);
    await conn.closed;
    clearInterval(trickle);
    expect(sent).toBeLessThan(full.length - 1);
    expect(conn.received().length).toBe(0);
    await stillServing();
  });

  it('malformed packets after a good CONNECT close only that connection', async () => {
    const badPackets: Array<[string, Buffer]> = [
      ['reserved packet type 0', Buffer.from([0x00, 0x00])],
      ['reserved packet type 15', Buffer.from([0xf0, 0x00])],
      ['PUBLISH with QoS 3', Buffer.from([0x36, 0x05, 0x00, 0x01, 0x61, 0x00, 0x01])],
      ['SUBSCRIBE with bad flags', Buffer.from([0x80, 0x06, 0x00, 0x01, 0x00, 0x01, 0x61, 0x00])],
      ['second CONNECT', connectPacket(fuzzDevice.id, fuzzDevice.password, 'again')],
      ['remaining length of five bytes', Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x7f])],
      [
        'PUBLISH with a wildcard topic',
        packet({
          cmd: 'publish',
          topic: `devices/${'+'}/telemetry`,
          payload: Buffer.from('{}'),
          qos: 0,
          retain: false,
          dup: false,
        }),
      ],
    ];
    for (const [i, [name, bytes]] of badPackets.entries()) {
      const conn = await openRaw(t.addresses.mqttPort);
      conn.write(connectPacket(fuzzDevice.id, fuzzDevice.password, `bad-${i}`));
      const connack = await receivedAtLeast(conn, 4);
      expect(connack[0], name).toBe(0x20);
      expect(connack[3], `${name}: CONNACK return code`).toBe(0);
      conn.write(bytes);
      await conn.closed;
      expect(conn.socket.destroyed, name).toBe(true);
    }
    await stillServing();
  });

  it('an oversized frame is cut at its header (before its body is buffered), counted, and the device told nothing more', async () => {
    const before = await refused('GATEWAY_PAYLOAD_TOO_LARGE');
    const conn = await openRaw(t.addresses.mqttPort);
    conn.write(connectPacket(fuzzDevice.id, fuzzDevice.password, 'huge'));
    await receivedAtLeast(conn, 4);
    const heapBefore = process.memoryUsage().heapUsed;
    // Claims 200 MB; then keeps sending body bytes as long as the connection is open.
    conn.write(headerClaiming(0x30, 200 * 1024 * 1024));
    const filler = Buffer.alloc(64 * 1024, 0x41);
    for (let i = 0; i < 64 && !conn.socket.destroyed; i++) conn.write(filler);
    await conn.closed;
    expect(await refused('GATEWAY_PAYLOAD_TOO_LARGE')).toBe(before + 1);
    // Nothing close to the claimed size was ever held (the bound is generous: GC is not deterministic).
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
    // The same before authenticating: the header alone is enough.
    const anon = await openRaw(t.addresses.mqttPort);
    anon.write(headerClaiming(0x10, 100 * 1024 * 1024));
    await anon.closed;
    expect(await refused('GATEWAY_PAYLOAD_TOO_LARGE')).toBe(before + 2);
    await stillServing();
  });

  it('connections past mqttMaxConnections are refused; the connected ones keep working', async () => {
    const conns = [];
    for (let i = 0; i < MAX_CONNECTIONS + 5; i++) conns.push(await openRaw(t.addresses.mqttPort));
    // Each says CONNECT: those inside the limit get a CONNACK, those past it were closed on accept.
    const outcomes = await Promise.all(
      conns.map((c, i) => {
        c.write(connectPacket(fuzzDevice.id, fuzzDevice.password, `limit-${i}`));
        return receivedAtLeast(c, 4).then(
          () => 'connack',
          () => 'refused',
        );
      }),
    );
    const accepted = outcomes.filter((o) => o === 'connack').length;
    // The good client holds one slot.
    expect(accepted).toBeLessThanOrEqual(MAX_CONNECTIONS - 1);
    expect(outcomes.filter((o) => o === 'refused').length).toBeGreaterThanOrEqual(6);
    for (const c of conns) c.destroy();
    await Promise.all(conns.map((c) => c.closed));
    await stillServing();
  });
});

describe('a device that floods refused messages and never reads its errors', () => {
  it('is slowed by its own backlog; its refusals are counted, not queued for it; others are served', {
    timeout: 60_000,
  }, async () => {
    const t = await startTestPlatform({ deviceRateLimitPerSec: 1_000_000 });
    try {
      const dev = await t.provision('noise-monitor', 'Old Town');
      const conn = await openRaw(t.addresses.mqttPort);
      conn.write(connectPacket(dev.id, dev.password));
      await receivedAtLeast(conn, 4);
      conn.write(
        packet({
          cmd: 'subscribe',
          messageId: 1,
          subscriptions: [{ topic: `devices/${dev.id}/errors`, qos: 1 }],
        }),
      );
      await receivedAtLeast(conn, 4 + 5);
      // From here the device reads nothing: every error for it would have to wait in the broker.
      conn.socket.pause();
      const bad = packet({
        cmd: 'publish',
        topic: `devices/${dev.id}/telemetry`,
        payload: Buffer.from('not json'),
        qos: 0,
        retain: false,
        dup: false,
      });
      const heapBefore = process.memoryUsage().heapUsed;
      const chunk = Buffer.concat(Array.from({ length: 1_000 }, () => bad));
      for (let i = 0; i < 50; i++) conn.socket.write(chunk);
      const metric = async (name: string) => {
        const text = await (await fetch(`${t.addresses.httpUrl}/metrics`)).text();
        const line = text
          .split('\n')
          .find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{reason="INGEST_MALFORMED_JSON"}`));
        return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
      };
      // Once its errors fill the connection, reports stop (counted) while refusals go on being counted.
      for (;;) {
        if ((await metric('citymetrics_error_reports_skipped_total')) > 1_000) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const refused = await metric('citymetrics_messages_refused_total');
      const growth = process.memoryUsage().heapUsed - heapBefore;
      console.info(
        `error flood: ${refused} refused, ${await metric('citymetrics_error_reports_skipped_total')} reports skipped, heap growth ${(growth / 1048576).toFixed(1)} MB`,
      );
      expect(refused).toBeGreaterThan(1_000);
      expect(growth).toBeLessThan(64 * 1024 * 1024);
      // Everyone else is served meanwhile.
      const other = await t.provision('noise-monitor', 'Harbour');
      const client = await t.connect(other.id, other.password);
      await client.publishAsync(
        `devices/${other.id}/telemetry`,
        JSON.stringify({ ts: Date.now() - 1_000, values: { laeq: 40 } }),
        { qos: 1 },
      );
      conn.destroy();
    } finally {
      await t.close();
    }
  });
});
