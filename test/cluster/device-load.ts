import mqtt, { type MqttClient } from 'mqtt';
import { expect } from 'vitest';
import { topicFor } from '../../core/topics.ts';
import { until } from './role-process.ts';

/**
 * QoS 1 load from many devices through a cluster's haproxy, and the check that ends every cluster failure
 * test: every acknowledged reading stored once, and the roll-ups equal to a recount of the raw points.
 */

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

export interface ClusterApi {
  http: string;
  mqtt: string;
  adminToken: string;
}

export interface Device {
  id: string;
  password: string;
}

async function call<T>(c: ClusterApi, method: string, path: string, body?: unknown) {
  const res = await fetch(`${c.http}${path}`, {
    method,
    headers: { authorization: `Bearer ${c.adminToken}`, 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) as T };
  } catch {
    // haproxy answers with a page of its own while no api node behind it is up (503 "No server").
    throw new Error(`${method} ${path}: ${res.status}, not JSON: ${text.slice(0, 200)}`);
  }
}

export async function provisionDevices(c: ClusterApi, n: number): Promise<Device[]> {
  // After an outage in an earlier test, haproxy takes an api node back only after its health checks pass.
  await until(
    'an api node in service behind haproxy',
    async () => (await fetch(`${c.http}/readyz`, { signal: AbortSignal.timeout(5_000) })).status === 200,
    60_000,
  );
  const out: Device[] = [];
  for (let i = 0; i < n; i++) {
    const res = await call<Device>(c, 'POST', '/api/devices', {
      installedAt: new Date(Date.now() - 7 * 86_400_000).toISOString(), // readings go back as far as the late window
      kind: 'air-quality-station',
      district: 'D1',
    });
    expect(res.status).toBe(201);
    out.push(res.body);
  }
  return out;
}

/** Logs in once the edges know the device (they hear of new devices from PostgreSQL). */
async function login(url: string, d: Device): Promise<MqttClient> {
  let client: MqttClient | null = null;
  await until(`${d.id} logged in`, async () => {
    client = await new Promise<MqttClient>((resolve, reject) => {
      const c = mqtt.connect(url, {
        clientId: d.id,
        username: d.id,
        password: d.password,
        reconnectPeriod: 0,
        connectTimeout: 5_000,
      });
      c.once('connect', () => resolve(c));
      c.once('error', (err) => {
        c.end(true);
        reject(err);
      });
    });
    return true;
  });
  return client!;
}

export interface Load {
  /** acknowledged so far, all devices */
  acked(): number;
  reconnects(): number;
  /**
   * What the devices heard on their errors topic as final refusals, by code. A finally refused reading is acknowledged too (MQTT
   * 3.1.1 has no negative PUBACK): the check counts it as a failure, never as a reading to wait for.
   */
  refusals(): Record<string, number>;
  /** Stops publishing, waits for what is in flight, disconnects; the acknowledged ts per device. */
  stop(): Promise<Map<string, Set<number>>>;
}

/** Where a load's simulated minutes begin: far enough back for minutes of load, inside the late window. */
export const loadStart = (): number => Date.now() - 2 * DAY;

/**
 * Each device publishes a reading a simulated minute apart (from `start`, see loadStart), at most 20
 * unacknowledged at once, reconnecting every 250 ms when cut: a device waits when the cluster does, as a
 * real one does. A device whose next minute would be in the future stops: a reading the platform refuses
 * as ahead of its clock is acknowledged and never stored, which the check would take for a lost one.
 */
export async function startLoad(c: ClusterApi, devices: readonly Device[], start: number): Promise<Load> {
  const acked = new Map<string, Set<number>>(devices.map((d) => [d.id, new Set()]));
  const refusals: Record<string, number> = {};
  const clients = await Promise.all(devices.map((d) => login(c.mqtt, d)));
  await Promise.all(
    clients.map((client, i) => client.subscribeAsync(topicFor(devices[i]!.id, 'errors'), { qos: 1 })),
  );
  for (const client of clients)
    client.on('message', (topic, payload) => {
      if (!topic.endsWith('/errors')) return;
      let report: { code?: unknown; retryable?: unknown } = { code: 'unreadable' };
      try {
        report = JSON.parse(payload.toString());
      } catch {}
      // A retryable refusal is not acknowledged: the device resends, and the check waits for that reading.
      if (report.retryable === true) return;
      const code = String(report.code);
      refusals[code] = (refusals[code] ?? 0) + 1;
    });
  let publishing = true;
  let reconnects = 0;
  const loops = devices.map(async (d, i) => {
    const client = clients[i]!;
    client.options.reconnectPeriod = 250;
    client.on('reconnect', () => {
      reconnects += 1;
    });
    const inFlight: Promise<void>[] = [];
    for (let n = 0; publishing; n++) {
      const ts = start + n * MINUTE + i;
      if (ts > Date.now() - MINUTE) break;
      inFlight.push(
        new Promise<void>((resolve) => {
          const body = JSON.stringify({ ts, values: { pm25: 10 + (n % 7) } });
          // The callback of a QoS 1 publish runs on its PUBACK (an error: never acknowledged).
          client.publish(topicFor(d.id, 'telemetry'), body, { qos: 1 }, (err) => {
            if (!err) acked.get(d.id)!.add(ts);
            resolve();
          });
        }),
      );
      if (inFlight.length >= 20) await inFlight.shift();
      await new Promise((r) => setTimeout(r, 20));
    }
    await Promise.all(inFlight);
  });
  return {
    acked: () => [...acked.values()].reduce((s, a) => s + a.size, 0),
    reconnects: () => reconnects,
    refusals: () => ({ ...refusals }),
    async stop() {
      publishing = false;
      // What is still in flight gets a minute to be acknowledged; a publish never acknowledged owes
      // nothing (the check counts only what was), so a device cut off at the end cannot hang the test.
      const settled = Promise.all(loops);
      const within = async (ms: number) => {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([settled, new Promise((r) => (timer = setTimeout(r, ms)))]);
        clearTimeout(timer);
      };
      await within(60_000);
      // Closed without reconnecting, a client fails the callbacks of what was not acknowledged.
      for (const client of clients) {
        client.options.reconnectPeriod = 0;
        client.end(true);
      }
      await within(5_000);
      return acked;
    },
  };
}

/**
 * Every acknowledged reading is stored, once (one reading per minute bucket, none two), and the hour and
 * day roll-ups count what the minutes hold. Readings resent after a failure may land after their PUBACK:
 * the check waits for the writers to catch up first.
 */
export async function expectStoredOnce(c: ClusterApi, acked: Map<string, Set<number>>, start: number) {
  // Whole days (the city zone is UTC), so that the hour and day buckets hold all their minutes.
  const from = new Date(start - (start % DAY)).toISOString();
  const to = new Date(start - (start % DAY) + 3 * DAY).toISOString();
  const stored = async (id: string, step: string) => {
    const res = await call<{ points: Array<{ t: string; count: number }> }>(
      c,
      'GET',
      `/api/series?device=${id}&metric=pm25&from=${from}&to=${to}&step=${step}`,
    );
    expect(res.status).toBe(200);
    return res.body.points;
  };
  const count = async (id: string, step: string) => (await stored(id, step)).reduce((s, p) => s + p.count, 0);
  for (const [id, want] of acked) {
    expect(want.size, `${id}: acknowledged readings`).toBeGreaterThan(0);
    await until(
      `${id}: ${want.size} readings stored`,
      async () => (await count(id, 'minute')) >= want.size,
      90_000,
    );
    const minutes = await stored(id, 'minute');
    expect(
      minutes.every((p) => p.count === 1),
      id,
    ).toBe(true);
    const storedTs = new Set(minutes.map((p) => Date.parse(p.t)));
    for (const ts of want) expect(storedTs.has(ts - (ts % MINUTE)), `${id} ${ts}`).toBe(true);
    expect(await count(id, 'hour'), id).toBe(minutes.length);
    expect(await count(id, 'day'), id).toBe(minutes.length);
  }
}
