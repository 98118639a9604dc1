import mqtt, { type MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { MAX_CONNECTIONS_PER_DEVICE } from '../../gateway/build-gateway.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/platform-harness.ts';

/**
 * What one device can do to another or to the platform, tried with a third-party client (mqtt.js) the way
 * an attacker would: floods of forbidden filters, persistent sessions holding refused filters, other
 * devices' client ids, logins racing a revocation, and back-filling faster than the rate limit.
 */
interface Stats {
  accepted: { values: number };
  refused: { byReason: Record<string, number> };
}

const reading = (ts: number, value = 50) => JSON.stringify({ ts, values: { laeq: value } });

/** Connects and resolves with the CONNACK return code (0 = accepted). */
function tryConnect(
  url: string,
  options: mqtt.IClientOptions,
): Promise<{ code: number; client: MqttClient }> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5_000, ...options });
  return new Promise((resolve) => {
    client.once('connect', () => resolve({ code: 0, client }));
    client.once('error', (err) => resolve({ code: (err as { code?: number }).code ?? -1, client }));
  });
}

async function stats(t: TestPlatform): Promise<Stats> {
  await t.platform.ingest.drain();
  return (await t.api<Stats>('GET', '/api/ingest/stats')).body;
}

describe('one device against the others', () => {
  it('thousands of forbidden filters cost a bounded amount and the broker keeps serving', async () => {
    const t = await startTestPlatform();
    try {
      const attacker = await t.provision('noise-monitor', 'Old Town');
      const calm = await t.provision('noise-monitor', 'Harbour');
      const a = await t.connect(attacker.id, attacker.password);
      await a.subscribeAsync(`devices/${attacker.id}/errors`, { qos: 1 });
      const closed = new Promise<void>((resolve) => a.once('close', () => resolve()));
      for (let p = 0; p < 10; p++) {
        const filters = Array.from({ length: 9_000 }, (_, i) => `${p}/${i}`); // ~90 kB a packet
        a.subscribe(filters, { qos: 1 }, () => {});
      }
      await closed; // cut once past its budget of refused filters
      const refusedBefore = (await stats(t)).refused.byReason.GATEWAY_NOT_AUTHORIZED ?? 0;
      expect(refusedBefore).toBeLessThanOrEqual(101);
      const c = await t.connect(calm.id, calm.password);
      await c.publishAsync(`devices/${calm.id}/telemetry`, reading(Date.now() - 1_000), { qos: 1 });
      expect((await stats(t)).accepted.values).toBe(1);
    } finally {
      await t.close();
    }
  });

  it('a persistent session never keeps a refused filter: nothing of another device is delivered later', async () => {
    const t = await startTestPlatform();
    try {
      const attacker = await t.provision('noise-monitor', 'Old Town');
      const victim = await t.provision('noise-monitor', 'Harbour');
      const options = {
        username: attacker.id,
        password: attacker.password,
        clientId: attacker.id,
        clean: false,
      };
      const first = await tryConnect(t.addresses.mqttUrl, options);
      expect(first.code).toBe(0);
      // mqtt.js rejects a SUBACK with a refused filter; the packet it carries says what was granted.
      const suback = await first.client
        .subscribeAsync([`devices/${attacker.id}/errors`, '#'], { qos: 1 })
        .then(
          () => null,
          (err: { packet?: { granted?: number[] } }) => err.packet,
        );
      expect(suback?.granted).toEqual([1, 128]);
      await first.client.endAsync();

      const v = await t.connect(victim.id, victim.password);
      await v.publishAsync(`devices/${victim.id}/telemetry`, reading(Date.now() - 1_000), { qos: 1 });
      await v.publishAsync(`devices/${victim.id}/telemetry`, 'not json', { qos: 1 }); // refused: re-routed

      // What the stored session holds and what was queued for it while offline, read from the broker's
      // session store: the next connect with this client id delivers exactly that queue.
      const sessions = (t.platform.gateway.broker as unknown as { persistence: unknown }).persistence as {
        subscriptionsByClient(c: { id: string }): Promise<Array<{ topic: string }> | null>;
        outgoingStream(c: { id: string }): AsyncIterable<{ topic: string }>;
      };
      const kept = (await sessions.subscriptionsByClient({ id: attacker.id })) ?? [];
      expect(kept.map((sub) => sub.topic)).toEqual([`devices/${attacker.id}/errors`]);
      const queued: string[] = [];
      for await (const packet of sessions.outgoingStream({ id: attacker.id })) queued.push(packet.topic);
      expect(queued.filter((topic) => !topic.startsWith(`devices/${attacker.id}/`))).toEqual([]);
    } finally {
      await t.close();
    }
  });

  it("another device's id as client id: its owner always gets in, and nothing of it is kept", async () => {
    const t = await startTestPlatform();
    try {
      const squatter = await t.provision('noise-monitor', 'Old Town');
      const owner = await t.provision('noise-monitor', 'Harbour');
      const squat = await tryConnect(t.addresses.mqttUrl, {
        username: squatter.id,
        password: squatter.password,
        clientId: owner.id,
      });
      expect(squat.code).toBe(0);
      await squat.client.endAsync();
      const own = await tryConnect(t.addresses.mqttUrl, {
        username: owner.id,
        password: owner.password,
        clientId: owner.id,
      });
      expect(own.code).toBe(0);
      await own.client.endAsync();
      // A persistent session under another id could be resumed by whoever presents that id next.
      const persistent = await tryConnect(t.addresses.mqttUrl, {
        username: squatter.id,
        password: squatter.password,
        clientId: 'shared-id',
        clean: false,
      });
      expect(persistent.code).toBe(2);
      persistent.client.end(true);
      // A foreign client id is the squatter's only while its connection lasts.
      const held = await tryConnect(t.addresses.mqttUrl, {
        username: squatter.id,
        password: squatter.password,
        clientId: 'shared-id',
      });
      expect(held.code).toBe(0);
      const refused = await tryConnect(t.addresses.mqttUrl, {
        username: owner.id,
        password: owner.password,
        clientId: 'shared-id',
      });
      expect(refused.code).toBe(2);
      refused.client.end(true);
      await held.client.endAsync();
      const later = await tryConnect(t.addresses.mqttUrl, {
        username: owner.id,
        password: owner.password,
        clientId: 'shared-id',
      });
      expect(later.code).toBe(0);
      await later.client.endAsync();
    } finally {
      await t.close();
    }
  });

  it('one device cannot take every connection slot', async () => {
    const t = await startTestPlatform();
    try {
      const greedy = await t.provision('noise-monitor', 'Old Town');
      const other = await t.provision('noise-monitor', 'Harbour');
      const as = (d: { id: string; password: string }, clientId: string) =>
        tryConnect(t.addresses.mqttUrl, { username: d.id, password: d.password, clientId });
      const held = [];
      for (let i = 0; i < MAX_CONNECTIONS_PER_DEVICE; i++) held.push(await as(greedy, `${greedy.id}-${i}`));
      expect(held.map((h) => h.code)).toEqual(held.map(() => 0));
      const extra = await as(greedy, `${greedy.id}-extra`);
      expect(extra.code).toBe(3);
      extra.client.end(true);
      // Taking over one of its own sessions (same client id) is still allowed.
      const again = await as(greedy, `${greedy.id}-0`);
      expect(again.code).toBe(0);
      const fine = await as(other, other.id);
      expect(fine.code).toBe(0);
      await Promise.all([...held, again, fine].map(({ client }) => client.endAsync(true)));
    } finally {
      await t.close();
    }
  });

  it('logins sent all at once cannot exceed the connection cap', async () => {
    const t = await startTestPlatform();
    try {
      const greedy = await t.provision('noise-monitor', 'Old Town');
      // Every CONNECT is in flight before the first credential check ends: the cap must count those too.
      const tries = await Promise.all(
        Array.from({ length: 24 }, (_, i) =>
          tryConnect(t.addresses.mqttUrl, {
            username: greedy.id,
            password: greedy.password,
            clientId: `${greedy.id}-burst-${i}`,
          }),
        ),
      );
      const accepted = tries.filter((r) => r.code === 0).length;
      expect(accepted).toBe(MAX_CONNECTIONS_PER_DEVICE);
      expect(tries.filter((r) => r.code === 3).length).toBe(24 - MAX_CONNECTIONS_PER_DEVICE);
      await Promise.all(tries.map(({ client }) => client.endAsync(true)));
      // Slots held by refused or closed logins are given back.
      const later = await tryConnect(t.addresses.mqttUrl, {
        username: greedy.id,
        password: greedy.password,
        clientId: `${greedy.id}-later`,
      });
      expect(later.code).toBe(0);
      later.client.end(true);
    } finally {
      await t.close();
    }
  });

  it('a throw inside a broker hook closes one connection, is counted, and the broker keeps serving', async () => {
    const t = await startTestPlatform();
    try {
      const unlucky = await t.provision('noise-monitor', 'Old Town');
      const other = await t.provision('noise-monitor', 'Harbour');
      // A faulty listener of the platform's own events runs inside aedes' clientReady emit.
      const faulty = (e: { deviceId: string }) => {
        if (e.deviceId === unlucky.id) throw new Error('listener bug');
      };
      t.platform.events.on('device-status', faulty);
      const first = await tryConnect(t.addresses.mqttUrl, {
        username: unlucky.id,
        password: unlucky.password,
        clientId: unlucky.id,
      });
      await new Promise<void>((resolve) => {
        if (!first.client.connected) resolve();
        else first.client.once('close', () => resolve());
      });
      t.platform.events.off('device-status', faulty);
      const metrics = await (await fetch(`${t.addresses.httpUrl}/metrics`)).text();
      expect(metrics).toMatch(/citymetrics_gateway_hook_failures_total\{hook="clientReady"\} 1/);
      const fine = await tryConnect(t.addresses.mqttUrl, {
        username: other.id,
        password: other.password,
        clientId: other.id,
      });
      expect(fine.code).toBe(0);
      await fine.client.publishAsync(`devices/${other.id}/telemetry`, reading(Date.now() - 1_000), {
        qos: 1,
      });
      expect((await stats(t)).accepted.values).toBe(1);
      first.client.end(true);
      fine.client.end(true);
    } finally {
      await t.close();
    }
  });

  it('a disable racing logins leaves no session, and nothing sent after it is stored', async () => {
    const t = await startTestPlatform();
    try {
      const url = t.addresses.mqttUrl;
      for (let trial = 0; trial < 5; trial++) {
        const device = await t.provision('noise-monitor', 'Old Town');
        const login = () =>
          tryConnect(url, {
            username: device.id,
            password: device.password,
            clientId: `${device.id}-${Math.random()}`,
          });
        // Logins in a tight loop while the admin disables the device: some are in flight at the disable.
        let disabling = true;
        const tries: Array<Promise<{ code: number; client: MqttClient }>> = [];
        const loop = (async () => {
          while (disabling) {
            tries.push(login());
            await new Promise((resolve) => setImmediate(resolve));
          }
        })();
        await new Promise((resolve) => setImmediate(resolve));
        const disabled = await t.api('POST', `/api/devices/${device.id}/disable`);
        expect(disabled.status).toBe(200);
        disabling = false;
        await loop;
        const all = await Promise.all(tries);
        // Whatever is still connected publishes now: none of it may be stored, the device is disabled.
        await Promise.all(
          all.map(({ client }) =>
            client.connected
              ? client
                  .publishAsync(`devices/${device.id}/telemetry`, reading(Date.now() - 500), { qos: 1 })
                  .catch(() => {})
              : undefined,
          ),
        );
        const late = await login();
        expect(late.code).toBe(5);
        late.client.end(true);
        await Promise.all(all.map(({ client }) => client.endAsync(true)));
      }
      expect(t.platform.gateway.connectedDevices()).toBe(0);
      expect((await stats(t)).accepted.values).toBe(0);
    } finally {
      await t.close();
    }
  });

  it('a device back-filling faster than its rate is slowed down: every acknowledged reading is stored', async () => {
    const t = await startTestPlatform({ deviceRateLimitPerSec: 100 });
    try {
      const filler = await t.provision('noise-monitor', 'Old Town');
      const calm = await t.provision('noise-monitor', 'Harbour');
      const c = await t.connect(filler.id, filler.password);
      const start = Date.now() - 3_600_000;
      const acks = Array.from({ length: 300 }, (_, i) =>
        c.publishAsync(`devices/${filler.id}/telemetry`, reading(start + i * 1_000), { qos: 1 }),
      );
      const calmClient = await t.connect(calm.id, calm.password);
      await calmClient.publishAsync(`devices/${calm.id}/telemetry`, reading(Date.now() - 1_000), { qos: 1 });
      await Promise.all(acks);
      const s = await stats(t);
      expect(s.refused.byReason.GATEWAY_RATE_LIMITED ?? 0).toBe(0);
      expect(s.accepted.values).toBe(301);
      // Reconnecting does not refill the bucket: the next burst is paced as well, never refused.
      await c.endAsync();
      const again = await t.connect(filler.id, filler.password);
      await Promise.all(
        Array.from({ length: 120 }, (_, i) =>
          again.publishAsync(`devices/${filler.id}/telemetry`, reading(start + (300 + i) * 1_000), {
            qos: 1,
          }),
        ),
      );
      expect((await stats(t)).accepted.values).toBe(421);
      const paced = await t.platform.telemetry.registry.getSingleMetricAsString(
        'citymetrics_mqtt_publishes_paced_total',
      );
      expect(Number(/ (\d+)$/m.exec(paced)?.[1])).toBeGreaterThanOrEqual(100);
    } finally {
      await t.close();
    }
  });
});
