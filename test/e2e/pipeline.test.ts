import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../helpers/platform-harness.ts';

const MINUTE = 60_000;

describe('end to end: provision → connect → publish → stored → API', () => {
  let t: TestPlatform;
  beforeAll(async () => {
    t = await startTestPlatform({ cityTimezone: 'Europe/Paris' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('a QoS 1 reading is visible through the API once acknowledged', async () => {
    const dev = await t.provision('air-quality-station', 'Old Town');
    const client = await t.connect(dev.id, dev.password);
    const ts = new Date(Date.now() - 5_000).toISOString();
    await client.publishAsync(
      `devices/${dev.id}/telemetry`,
      JSON.stringify({ ts, values: { pm25: 12.5, no2: { value: 10, unit: 'ppb' } } }),
      { qos: 1 },
    );
    await t.platform.ingest.drain();
    const res = await t.api<{ values: Array<{ metric: string; value: number; ts: string; unit: string }> }>(
      'GET',
      `/api/devices/${dev.id}/latest`,
    );
    expect(res.status).toBe(200);
    const byMetric = Object.fromEntries(res.body.values.map((v) => [v.metric, v]));
    expect(byMetric.pm25?.value).toBe(12.5);
    expect(byMetric.pm25?.ts).toBe(ts);
    // 10 ppb NO2 at EU reference conditions (20 °C, 101.325 kPa) is 10 × 46.0055 / 24.055 = 19.125 µg/m³.
    expect(byMetric.no2?.value).toBeCloseTo((10 * 46.0055 * 101.325) / (8.314462618 * 293.15), 6);
    expect(byMetric.no2?.unit).toBe('µg/m³');
  });

  it('roll-ups are right for a known input with duplicates, a revision and late readings', async () => {
    const dev = await t.provision('noise-monitor', 'Harbour');
    const client = await t.connect(dev.id, dev.password);
    const base = Math.floor((Date.now() - 3 * 3_600_000) / 3_600_000) * 3_600_000; // an hour boundary, 3 h ago
    const send = (offsetMs: number, laeq: number) =>
      client.publishAsync(
        `devices/${dev.id}/telemetry`,
        JSON.stringify({ ts: base + offsetMs, values: { laeq } }),
        { qos: 1 },
      );
    await send(0, 50);
    await send(10_000, 60);
    await send(MINUTE, 70);
    await send(2 * MINUTE + 5_000, 40);
    await send(10_000, 60); // duplicate: stored once
    // A back-filled batch, older than the newest reading (late), as one message.
    await client.publishAsync(
      `devices/${dev.id}/telemetry`,
      JSON.stringify([
        { ts: base + 30_000, values: { laeq: 55 } },
        { ts: base + MINUTE + 30_000, values: { laeq: 80 } },
      ]),
      { qos: 1 },
    );
    await t.platform.ingest.drain();
    const from = new Date(base).toISOString();
    const to = new Date(base + 3_600_000).toISOString();
    const minutes = await t.api<{
      points: Array<{ t: string; count: number; mean: number; min: number; max: number }>;
    }>('GET', `/api/series?device=${dev.id}&metric=laeq&from=${from}&to=${to}&step=minute`);
    expect(minutes.status).toBe(200);
    // LAeq is a sound level: the mean of a bucket is energetic, 10·log10(mean(10^(L/10))).
    const energetic = (xs: number[]) =>
      10 * Math.log10(xs.reduce((a, x) => a + 10 ** (x / 10), 0) / xs.length);
    expect(minutes.body.points).toEqual([
      {
        t: new Date(base).toISOString(),
        count: 3,
        mean: expect.closeTo(energetic([50, 60, 55]), 9),
        min: 50,
        max: 60,
      },
      {
        t: new Date(base + MINUTE).toISOString(),
        count: 2,
        mean: expect.closeTo(energetic([70, 80]), 9),
        min: 70,
        max: 80,
      },
      {
        t: new Date(base + 2 * MINUTE).toISOString(),
        count: 1,
        mean: expect.closeTo(40, 9),
        min: 40,
        max: 40,
      },
    ]);
    const hours = await t.api<{ points: Array<{ count: number; mean: number }> }>(
      'GET',
      `/api/series?device=${dev.id}&metric=laeq&from=${from}&to=${to}&step=hour`,
    );
    expect(hours.body.points).toHaveLength(1);
    expect(hours.body.points[0]).toMatchObject({ count: 6, min: 40, max: 80 });
    expect(hours.body.points[0]!.mean).toBeCloseTo(energetic([50, 60, 55, 70, 80, 40]), 9);
    const district = await t.api<{ points: Array<{ count: number }> }>(
      'GET',
      `/api/series?district=Harbour&metric=laeq&from=${from}&to=${to}&step=hour`,
    );
    expect(district.body.points[0]?.count).toBe(6);
    const stats = await t.api<{ stored: { duplicates: number } }>('GET', '/api/ingest/stats');
    expect(stats.body.stored.duplicates).toBeGreaterThanOrEqual(1);
  });

  it('a third-party client (mosquitto_pub) publishes a reading that the API then shows', async (ctx) => {
    const found = spawnSync('mosquitto_pub', ['--help']).error === undefined;
    if (!found) {
      if (process.env.CI === 'true')
        throw new Error('mosquitto_pub is missing under CI: .ci/run installs mosquitto-clients');
      ctx.skip(true, 'mosquitto_pub not installed (apt-get install mosquitto-clients)');
    }
    const dev = await t.provision('traffic-counter', 'Northgate', {
      segmentLengthKm: 1.2,
      freeFlowSpeedKmh: 50,
    });
    const ts = new Date(Date.now() - 1_000).toISOString();
    // Asynchronously: the broker runs in this very process and must keep serving while mosquitto_pub waits.
    await promisify(execFile)('mosquitto_pub', [
      '-h',
      '127.0.0.1',
      '-p',
      String(t.addresses.mqttPort),
      '-u',
      dev.id,
      '-P',
      dev.password,
      '-q',
      '1',
      '-t',
      `devices/${dev.id}/telemetry`,
      '-m',
      JSON.stringify({ ts, values: { count: 17, speed: 42.5 } }),
    ]);
    await t.platform.ingest.drain();
    const res = await t.api<{ values: Array<{ metric: string; value: number }> }>(
      'GET',
      `/api/devices/${dev.id}/latest`,
    );
    expect(res.body.values.find((v) => v.metric === 'count')?.value).toBe(17);
    expect(res.body.values.find((v) => v.metric === 'speed')?.value).toBe(42.5);
  });

  it('MQTT over WebSocket works the same', async () => {
    const dev = await t.provision('emf-probe', 'University');
    const { default: mqtt } = await import('mqtt');
    const client = await mqtt.connectAsync(`ws://127.0.0.1:${t.addresses.mqttWsPort}/mqtt`, {
      username: dev.id,
      password: dev.password,
      reconnectPeriod: 0,
    });
    await client.publishAsync(
      `devices/${dev.id}/telemetry`,
      JSON.stringify({ ts: Date.now() - 1000, values: { efield: 0.8 } }),
      { qos: 1 },
    );
    await client.endAsync();
    await t.platform.ingest.drain();
    const res = await t.api<{ values: Array<{ metric: string; value: number }> }>(
      'GET',
      `/api/devices/${dev.id}/latest`,
    );
    expect(res.body.values).toEqual([expect.objectContaining({ metric: 'efield', value: 0.8 })]);
  });
});
