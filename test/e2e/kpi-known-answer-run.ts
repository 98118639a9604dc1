import { DateTime } from 'luxon';
import type { MqttClient } from 'mqtt';
import { expect } from 'vitest';
import { ManualClock } from '../../core/clock.ts';
import type { KpiRevised } from '../../core/platform-events.ts';
import { percentText } from '../../metrics/kpi-status.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/platform-harness.ts';
import { CITY_FACTS, generateCity, type Reading } from './kpi-known-answer-city.ts';
import { expectedKpis, expectedPm25After } from './kpi-known-answer-expected.ts';

/**
 * The known-answer city: a deterministic month of readings from a device of every kind, with
 * gaps, duplicates, late and out-of-order readings, published over real MQTT; every sensor-derived KPI of
 * the month roll-up must match the value computed independently from the generated readings to 0.1 %. Then
 * the month is closed and late data arrives: exactly one restatement, with the right old and new values.
 * Months with a DST change (Paris, Santiago where the clocks go back at midnight) and one without (São Paulo).
 */

const HOUR = 3_600_000;
const DAY = 86_400_000;

interface Entry {
  code: string;
  dataPoint: string | null;
  value: number | null;
  completeness: number | null;
  version: number;
  source: string | null;
}

const near = (actual: number | null | undefined, expected: number | null, what: string): void => {
  expect(expected, what).not.toBeNull();
  expect(actual, what).not.toBeNull();
  const tolerance = Math.max(1e-9, Math.abs(expected!) * 0.001);
  expect(Math.abs(actual! - expected!), `${what}: ${actual} vs expected ${expected}`).toBeLessThanOrEqual(
    tolerance,
  );
};

async function publish(client: MqttClient, id: string, batches: Reading[][]): Promise<void> {
  for (const batch of batches)
    await client.publishAsync(`devices/${id}/telemetry`, JSON.stringify(batch), { qos: 1 });
}

async function settle(t: TestPlatform): Promise<void> {
  await t.platform.ingest.drain();
  await t.platform.kpis.engine.flush();
}

export interface KnownAnswerCase {
  zone: string;
  /** the month, `YYYY-MM` */
  label: string;
  seed: number;
  /** hours in the month: 743 or 721 when it holds a DST change */
  hours: number;
}

/** Each case runs in a test file of its own: one process per month, so a slow one cannot hold up another. */
export const KNOWN_ANSWER_TIMEOUT_MS = 240_000;

export async function runKnownAnswerCity({ zone, label, seed, hours }: KnownAnswerCase): Promise<void> {
  const [year, month] = label.split('-').map(Number) as [number, number];
  const startAt = DateTime.fromObject({ year, month, day: 1 }, { zone });
  const start = startAt.toMillis();
  const end = startAt.plus({ months: 1 }).toMillis();
  expect((end - start) / HOUR).toBe(hours); // the month really holds its DST change
  const clock = new ManualClock(start - 2 * DAY);
  const t = await startTestPlatform(
    {
      cityTimezone: zone,
      ingestLateWindowMs: 60 * DAY,
      // Raw points must outlive the late window: a back-filled reading is never older than retention.
      retentionRawDays: 90,
      mqttMaxPayloadBytes: 1_048_576,
      deviceRateLimitPerSec: 100_000,
      kpiRecomputeDebounceMs: 3_600_000,
    },
    clock,
  );
  try {
    const city = generateCity(start, end, seed);
    const ids = new Map<string, { id: string; password: string }>();
    for (const spec of city.specs)
      ids.set(spec.key, await t.provision(spec.kind, spec.district, spec.attributes));
    const profile = await t.api('PUT', '/api/city-profile', {
      population: CITY_FACTS.population,
      effectiveFrom: '2020-01-01',
      dataQuality: 'accurate-measurement',
      source: 'census',
    });
    expect(profile.status).toBe(200);
    for (const [name, input] of Object.entries(CITY_FACTS.inputs)) {
      const res = await t.api('PUT', `/api/inputs/${name}`, {
        period: String(year),
        value: input.value,
        unit: input.unit,
        dataQuality: 'accurate-measurement',
        source: 'utility register',
      });
      expect(res.status, name).toBe(200);
    }

    clock.set(end + HOUR);
    const clients = new Map<string, MqttClient>();
    await Promise.all(
      city.specs.map(async (spec) => {
        const { id, password } = ids.get(spec.key)!;
        const client = await t.connect(id, password);
        clients.set(spec.key, client);
        await publish(client, id, city.batches.get(spec.key)!);
        for (const e of city.events.get(spec.key) ?? [])
          await client.publishAsync(`devices/${id}/events`, JSON.stringify(e), { qos: 1 });
      }),
    );
    await settle(t);
    expect(t.platform.ingest.stats().refused.total).toBe(0);

    const {
      values: expected,
      airCompleteness,
      airCompletenessAfter,
    } = expectedKpis(city, {
      start,
      end,
      days: startAt.daysInMonth!,
      zone,
    });
    const live = await t.api<{ version: number; closed: boolean; entries: Entry[] }>(
      'GET',
      `/api/rollups/${label}`,
    );
    expect(live.status).toBe(200);
    expect(live.body).toMatchObject({ version: 0, closed: false });
    const find = (entries: Entry[], key: string) => {
      const [code, dp] = key.split('|');
      return entries.find(
        (e) => e.code === code && (dp === undefined ? e.dataPoint === null : e.dataPoint === dp),
      );
    };
    expect(expected.size).toBe(37); // 27 KPIs: Air Pollution five data points, Solid Waste six, Wireless Broadband two
    for (const [key, value] of expected) near(find(live.body.entries, key)?.value, value, key);
    near(find(live.body.entries, 'EN: EN: AQ: 1C|PM2.5')?.completeness, airCompleteness, 'air completeness');

    const closed = await t.api<{ closed: Array<{ period: string; version: number }> }>(
      'POST',
      `/api/rollups/${label}/close`,
    );
    expect(closed.status).toBe(201);
    expect(closed.body.closed).toEqual([expect.objectContaining({ period: label, version: 1 })]);
    const again = await t.api<{ error: { code: string } }>('POST', `/api/rollups/${label}/close`);
    expect(again.body.error.code).toBe('METRICS_ALREADY_CLOSED');

    const revised: KpiRevised[] = [];
    t.platform.events.on('kpi-revised', (e) => revised.push(e));
    const air = ids.get('air1')!;
    await publish(clients.get('air1')!, air.id, [city.afterClose]);
    await settle(t);

    const rs = await t.api<{ restatements: Array<Record<string, unknown>> }>(
      'GET',
      `/api/rollups/${label}/restatements`,
    );
    expect(rs.status).toBe(200);
    expect(rs.body.restatements).toHaveLength(1);
    const [r] = rs.body.restatements as Array<{
      code: string;
      dataPoint: string;
      version: number;
      oldValue: number;
      newValue: number;
      oldStatus: string;
      newStatus: string;
      oldCompleteness: number;
      newCompleteness: number;
      cause: string;
      causes: unknown[];
    }>;
    // above the capture threshold before and after: final both times, completeness up by the late readings
    expect(r).toMatchObject({
      code: 'EN: EN: AQ: 1C',
      dataPoint: 'PM2.5',
      version: 2,
      oldStatus: 'final',
      newStatus: 'final',
    });
    near(r!.oldValue, expected.get('EN: EN: AQ: 1C|PM2.5')!, 'restated old PM2.5');
    near(r!.newValue, expectedPm25After(city), 'restated new PM2.5');
    near(r!.oldCompleteness, airCompleteness, 'restated old air completeness');
    near(r!.newCompleteness, airCompletenessAfter, 'restated new air completeness');
    const late = { kind: 'late-data', readings: city.afterClose.length, devices: [air.id] };
    const completeness = {
      kind: 'status',
      code: 'EN: EN: AQ: 1C',
      dataPoint: 'PM2.5',
      oldStatus: 'final',
      newStatus: 'final',
      oldCompleteness: r!.oldCompleteness,
      newCompleteness: r!.newCompleteness,
    };
    expect(r!.causes).toEqual([late, completeness]);
    expect(r!.cause).toBe(
      `late data: ${city.afterClose.length} readings arrived after close from ${air.id}; ` +
        `completeness changed: EN: EN: AQ: 1C (PM2.5) ${percentText(r!.oldCompleteness)} → ${percentText(r!.newCompleteness)}, still final`,
    );
    expect(revised).toHaveLength(1);
    expect(revised[0]!.causes).toEqual([late, completeness]);

    const v2 = await t.api<{ version: number; closed: boolean; entries: Entry[] }>(
      'GET',
      `/api/rollups/${label}`,
    );
    expect(v2.body).toMatchObject({ version: 2, closed: true });
    for (const [key, value] of expected) {
      if (key === 'EN: EN: AQ: 1C|PM2.5') continue;
      near(find(v2.body.entries, key)?.value, value, `${key} after restatement`);
    }
    expect(find(v2.body.entries, 'EN: EN: AQ: 1C|PM2.5')?.version).toBe(2);
  } finally {
    await t.close();
  }
}
