import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceCounts } from '../../ingest/device-counters.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/platform-harness.ts';

/** As the API answers: the ingest view with its time as ISO 8601. */
type Counters = Omit<DeviceCounts, 'lastAt'> & { lastAt: string | null };

/**
 * Per-device counters as a device owner reads them, after readings over MQTT (mqtt.js) and HTTP: what the
 * device published (from its seq numbers), what arrived, what was refused and why, what was stored.
 */
describe('per-device counters', () => {
  let t: TestPlatform;
  beforeAll(async () => {
    t = await startTestPlatform({ deviceRateLimitPerSec: 10_000 });
  });
  afterAll(async () => {
    await t.close();
  });

  it('count messages, refusals by reason, stored values and seq gaps for one device only', async () => {
    const dev = await t.provision('noise-monitor', 'Old Town');
    const other = await t.provision('noise-monitor', 'Harbour');
    const client = await t.connect(dev.id, dev.password);
    const base = Math.floor((Date.now() - 3_600_000) / 1000) * 1000;
    const send = (seq: number, laeq: number) =>
      client.publishAsync(
        `devices/${dev.id}/telemetry`,
        JSON.stringify({ ts: base + seq * 1000, seq, values: { laeq } }),
        {
          qos: 1,
        },
      );
    // seq 0..9 with 3 and 7 lost, 5 out of range, 2 sent twice (its value the same: a duplicate).
    for (const seq of [0, 1, 2, 4, 6, 8, 9]) await send(seq, 50 + seq);
    await send(5, 500);
    await send(2, 52);
    // Over HTTP, with the device's own credentials: seq 10.
    const basic = Buffer.from(`${dev.id}:${dev.password}`).toString('base64');
    const http = await fetch(`${t.addresses.httpUrl}/api/devices/${dev.id}/telemetry`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ts: base + 10_000, seq: 10, values: { laeq: 60 } }),
    });
    expect(http.status).toBe(201);
    // A broken message: counted as received and refused, its seq unknown.
    await client.publishAsync(`devices/${dev.id}/telemetry`, '{"ts": ', { qos: 1 });
    await t.platform.ingest.drain();

    const res = await t.api<Counters>('GET', `/api/devices/${dev.id}/counters`);
    expect(res.status).toBe(200);
    const c = res.body;
    expect(c.received).toBe(11);
    expect(c.accepted).toEqual({ messages: 9, readings: 9, values: 9 });
    expect(c.refused).toEqual({
      total: 2,
      byReason: { INGEST_OUT_OF_RANGE: 1, INGEST_MALFORMED_JSON: 1 },
    });
    // 9 values written: the resent seq 2 is written again and kept once.
    expect(c.stored).toBe(9);
    expect(c.seq).toEqual({ published: 11, seen: 9, gaps: 2, repeated: 1, restarts: 0, highest: 10 });
    expect(c.lastAt).not.toBeNull();

    // The other device is untouched; an unknown one is a 404.
    const o = await t.api<Counters>('GET', `/api/devices/${other.id}/counters`);
    expect(o.body).toMatchObject({ received: 0, stored: 0, seq: null });
    expect((await t.api('GET', '/api/devices/nope/counters')).status).toBe(404);

    expect((await fetch(`${t.addresses.httpUrl}/metrics/devices`)).status).toBe(401);
    const metrics = await (
      await fetch(`${t.addresses.httpUrl}/metrics/devices`, {
        headers: { authorization: `Bearer ${t.adminToken}` },
      })
    ).text();
    expect(metrics).toContain(`citymetrics_device_seq_gaps{device="${dev.id}"} 2`);
    expect(metrics).toContain(
      `citymetrics_device_messages_refused{device="${dev.id}",reason="INGEST_OUT_OF_RANGE"} 1`,
    );
    expect(metrics).toContain(`citymetrics_device_values_stored{device="${dev.id}"} 9`);

    // The platform's totals count readings' values, not the energy companions the store keeps next to
    // each sound level: 8 distinct values and the resent one (only this device has sent anything).
    const stats = await t.api<{
      accepted: { values: number };
      stored: { inserted: number; duplicates: number };
    }>('GET', '/api/ingest/stats');
    expect(stats.status).toBe(200);
    expect(stats.body.accepted.values).toBe(9);
    expect(stats.body.stored).toMatchObject({ inserted: 8, duplicates: 1 });
    await client.endAsync();
  });
});
