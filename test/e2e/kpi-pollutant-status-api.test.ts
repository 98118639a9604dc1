import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/platform-harness.ts';

/**
 * Air Pollution's data points each carry their own completeness and status on every surface that shows the
 * value: the KPI list's current values and the lineage of an open period, as the roll-up rows already do.
 * One station measuring PM2.5 and SO2 (`pollutants` attribute), two hours into March: PM2.5 reported every
 * minute, SO2 every other minute, the three others not measured at all.
 */

const ZONE = 'Europe/Paris';
const AIR = 'EN: EN: AQ: 1C';
const MIN = 60_000;
const START = DateTime.fromISO('2026-03-01T00:00:00', { zone: ZONE }).toMillis();
const NOW = START + 120 * MIN;

interface Point {
  name: string;
  value: number | null;
  completeness?: number | null;
  status?: string;
  statusReason?: string;
}
interface View {
  status: string;
  completeness: number | null;
  dataPoints: Point[];
}

// Worked out by hand: the station owes 120 one-minute readings of what it measures and none of the rest;
// a running month is provisional whatever its completeness; a pollutant nobody owes has nothing expected.
const EXPECTED: Record<string, Point> = {
  'PM2.5': {
    name: 'PM2.5',
    value: 10,
    completeness: 1,
    status: 'provisional',
    statusReason: 'running-period',
  },
  SO2: { name: 'SO2', value: 4, completeness: 0.5, status: 'provisional', statusReason: 'running-period' },
  PM10: {
    name: 'PM10',
    value: null,
    completeness: null,
    status: 'no-data-expected',
    statusReason: 'nothing-expected',
  },
  NO2: {
    name: 'NO2',
    value: null,
    completeness: null,
    status: 'no-data-expected',
    statusReason: 'nothing-expected',
  },
  O3: {
    name: 'O3',
    value: null,
    completeness: null,
    status: 'no-data-expected',
    statusReason: 'nothing-expected',
  },
};

describe('per-pollutant status in the KPI value views', () => {
  let t: TestPlatform;
  const clock = new ManualClock(START);

  beforeAll(async () => {
    t = await startTestPlatform({ cityTimezone: ZONE }, clock);
    const { id } = await t.provision(
      'air-quality-station',
      'centre',
      { pollutants: 'pm25,so2' },
      new Date(START).toISOString(),
    );
    const point = (metric: string, ts: number, value: number) => ({
      deviceId: id,
      kind: 'air-quality-station',
      district: 'centre',
      metric,
      ts,
      value,
    });
    const points = [];
    for (let i = 0; i < 120; i++) {
      points.push(point('pm25', START + i * MIN, 10));
      if (i % 2 === 0) points.push(point('so2', START + i * MIN, 4));
    }
    await t.platform.store.write(points);
    clock.set(NOW);
    await t.platform.kpis.engine.computeAll();
  });
  afterAll(async () => {
    await t?.close();
  });

  const byName = (v: View | null | undefined) => new Map((v?.dataPoints ?? []).map((d) => [d.name, d]));

  it('the list: the month-to-date value carries each pollutant with its own completeness and status', async () => {
    const list = await t.api<{ items: Array<{ code: string; current: Record<string, View | null> }> }>(
      'GET',
      '/api/kpis',
    );
    expect(list.status).toBe(200);
    const mtd = list.body.items.find((i) => i.code === AIR)?.current['month-to-date'];
    expect(mtd).toMatchObject({ status: 'provisional', completeness: 1 });
    const points = byName(mtd);
    for (const [name, want] of Object.entries(EXPECTED))
      expect(points.get(name)).toEqual({ ...want, unit: 'µg/m³' });
  });

  it('the lineage of the open month: the same data points, each with its own verdict', async () => {
    const lineage = await t.api<{ view?: View }>('GET', '/api/kpis/EN-EN-AQ-1C/lineage?period=2026-03-mtd');
    expect(lineage.status).toBe(200);
    const points = byName(lineage.body.view);
    for (const [name, want] of Object.entries(EXPECTED)) expect(points.get(name)).toMatchObject(want);
  });

  it('the roll-up rows of the month agree with the view, pollutant by pollutant', async () => {
    const rollup = await t.api<{
      entries: Array<{ code: string; dataPoint: string | null; status: string }>;
    }>('GET', '/api/rollups/2026-03');
    expect(rollup.status).toBe(200);
    const rows = rollup.body.entries.filter((e) => e.code === AIR);
    expect(rows).toHaveLength(5);
    for (const row of rows) expect(row.status).toBe(EXPECTED[row.dataPoint!]?.status);
  });
});
