import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/platform-harness.ts';

/**
 * Devices provisioned after the period they back-fill, and a device removed mid-month, on the whole
 * platform: provisioned and decommissioned through the API in December, October's readings back-filled
 * over HTTP ingest, October's roll-up read through the API. Expected values are worked out by hand below
 * from the readings sent (UTC city, October 2026: 31 days).
 */
const MIN = 60_000;
const DAY = 86_400_000;
const OCT1 = Date.parse('2026-10-01T00:00:00Z');
const OCT16 = Date.parse('2026-10-16T00:00:00Z');
const NOW = Date.parse('2026-12-10T12:00:00Z');

interface Entry {
  code: string;
  dataPoint: string | null;
  value: number | null;
  completeness: number | null;
}
interface Answer {
  status: number;
  body: { error?: { code: string; message: string } };
}
type Device = { id: string; password: string };

let t: TestPlatform;
const clock = new ManualClock(NOW);

async function send(d: Device, readings: unknown[]): Promise<Answer> {
  const res = await fetch(`${t.addresses.httpUrl}/api/devices/${d.id}/telemetry`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Basic ${Buffer.from(`${d.id}:${d.password}`).toString('base64')}`,
    },
    body: JSON.stringify(readings),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : {} };
}

/** Readings every `stepMs` from `from` for `n` steps, one metric, one value, in batches of 1000. */
async function backfill(d: Device, metric: string, from: number, stepMs: number, n: number, value: number) {
  for (let i = 0; i < n; i += 1000) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + 1000); j++)
      batch.push({ ts: from + j * stepMs, values: { [metric]: value } });
    const answer = await send(d, batch);
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  }
}

const entry = (entries: Entry[], code: string, dataPoint: string | null = null) =>
  entries.find((e) => e.code === code && e.dataPoint === dataPoint);

describe('installed interval: devices provisioned in December that back-fill October', () => {
  let stationLate: Device;
  let stationRemoved: Device;
  let meter: Device;

  beforeAll(async () => {
    t = await startTestPlatform(
      {
        cityTimezone: 'UTC',
        // October is 70 days back from now: the late window and the raw retention reach it
        ingestLateWindowMs: 80 * DAY,
        retentionRawDays: 120,
        deviceRateLimitPerSec: 100_000,
        kpiRecomputeDebounceMs: 3_600_000,
      },
      clock,
    );
    const installed = '2026-10-01T00:00:00Z';
    stationLate = await t.provision('air-quality-station', 'centre', { pollutants: 'pm25' }, installed);
    stationRemoved = await t.provision('air-quality-station', 'centre', { pollutants: 'pm25' }, installed);
    meter = await t.provision('water-smart-meter', 'centre', {}, installed);
    const profile = await t.api('PUT', '/api/city-profile', {
      population: 1000,
      effectiveFrom: '2020-01-01',
      dataQuality: 'accurate-measurement',
      source: 'census',
    });
    expect(profile.status).toBe(200);
  }, 60_000);

  afterAll(async () => {
    await t?.close();
  });

  it('keeps installedAt as given and the provisioning time apart', async () => {
    const d = await t.api<{ createdAt: string; installedAt: string; removedAt: null }>(
      'GET',
      `/api/devices/${stationLate.id}`,
    );
    expect(d.body).toMatchObject({
      createdAt: new Date(NOW).toISOString(),
      installedAt: new Date(OCT1).toISOString(),
      removedAt: null,
    });
  });

  it('refuses a reading before the installation with its own code, counted for the device', async () => {
    const before = await send(stationLate, [{ ts: OCT1 - MIN, values: { pm25: 99 } }]);
    expect(before.status).toBe(400);
    expect(before.body.error?.code).toBe('INGEST_OUTSIDE_INSTALLATION');
    expect(before.body.error?.message).toContain('2026-10-01T00:00:00.000Z');
    const counters = await t.api<{ refused: { byReason: Record<string, number> } }>(
      'GET',
      `/api/devices/${stationLate.id}/counters`,
    );
    expect(counters.body.refused.byReason).toEqual({ INGEST_OUTSIDE_INSTALLATION: 1 });
  });

  it('counts the back-filled October in its PM2.5, water consumption and completeness', async () => {
    // Station 1: a pm25 reading of 10 µg/m³ every 10 minutes for the first 20 days: 20 × 144 = 2880.
    await backfill(stationLate, 'pm25', OCT1, 10 * MIN, 20 * 144, 10);
    // Station 2: 20 µg/m³ every 10 minutes for 15 days (1 to 15 October): 15 × 144 = 2160, then removed.
    await backfill(stationRemoved, 'pm25', OCT1, 10 * MIN, 15 * 144, 20);
    // The meter: 0.5 m³ every hour of October: 744 readings, 372 m³.
    await backfill(meter, 'volume', OCT1, 60 * MIN, 31 * 24, 0.5);
    const removed = await t.api<{ removedAt: string }>(
      'POST',
      `/api/devices/${stationRemoved.id}/decommission`,
      { at: '2026-10-16T00:00:00Z' },
    );
    expect(removed.status).toBe(200);
    expect(removed.body.removedAt).toBe(new Date(OCT16).toISOString());
    await t.platform.ingest.drain();

    const rollup = await t.api<{ entries: Entry[] }>('GET', '/api/rollups/2026-10');
    expect(rollup.status).toBe(200);
    const pm25 = entry(rollup.body.entries, 'EN: EN: AQ: 1C', 'PM2.5');
    // The mean of the two station means: (10 + 20) / 2 = 15.
    expect(pm25?.value).toBeCloseTo(15, 9);
    // Owed at the kind's 60 s interval: station 1 the whole of October, 31 × 1440 = 44 640; station 2
    // only until its removal on 16 October, 15 × 1440 = 21 600. Received 2880 + 2160 = 5040.
    expect(pm25?.completeness).toBeCloseTo(5040 / (44_640 + 21_600), 9);
    const water = entry(rollup.body.entries, 'EN: EN: WS: 2C');
    // 372 m³ × 1000 L ÷ 1000 inhabitants ÷ 31 days = 12 L per capita per day.
    expect(water?.value).toBeCloseTo(12, 9);
    // Owed at 900 s over October: 31 × 96 = 2976; received 744.
    expect(water?.completeness).toBeCloseTo(744 / 2976, 9);
  });

  it('a decommissioned device is cut off, still counts in October, and owes nothing in December', async () => {
    const late = await send(stationRemoved, [{ ts: OCT16, values: { pm25: 5 } }]);
    // its credentials were revoked with the decommissioning
    expect(late.body.error?.code).toBe('GATEWAY_DEVICE_DISABLED');
    const life = await t.api<{
      changes: Array<{ action: string; by: string; after: { removedAt: string } }>;
    }>('GET', `/api/devices/${stationRemoved.id}/life`);
    expect(life.body.changes).toEqual([
      expect.objectContaining({
        action: 'decommission',
        by: expect.stringMatching(/^test \(/),
        after: { installedAt: new Date(OCT1).toISOString(), removedAt: new Date(OCT16).toISOString() },
      }),
    ]);
    const december = await t.api<{ entries: Entry[] }>('GET', '/api/rollups/2026-12');
    const pm25 = entry(december.body.entries, 'EN: EN: AQ: 1C', 'PM2.5');
    // December so far (1 Dec to now, 9.5 days) is owed by station 1 only: 9.5 × 1440 = 13 680, none came.
    expect(pm25?.completeness).toBe(0);
    expect(pm25?.value).toBeNull();
  });

  it('refuses to move the start past stored readings unless forced', async () => {
    const refused = await t.api<{ error: { code: string; field: string } }>(
      'PATCH',
      `/api/devices/${stationLate.id}`,
      { installedAt: '2026-10-02T00:00:00Z' },
    );
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({
      code: 'DEVICES_LIFE_EXCLUDES_READINGS',
      field: 'installedAt',
    });
    const still = await t.api<{ installedAt: string }>('GET', `/api/devices/${stationLate.id}`);
    expect(still.body.installedAt).toBe(new Date(OCT1).toISOString());
  });
});
