import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/platform-harness.ts';

/**
 * "Explain this number" as the KPI page reads it: the lineage of a value for each kind of period (month,
 * quarter, year, month to date, rolling 12 months), with its status, the reason for it in words, and the
 * device series with their reading counts. One noise monitor (60 s interval) in Paris: December complete
 * and closed by the scheduler, January incomplete and closed on demand, February running.
 */

const ZONE = 'Europe/Paris';
const MIN = 60_000;
const at = (iso: string) => DateTime.fromISO(iso, { zone: ZONE }).toMillis();
const INSTALLED = at('2025-12-31T20:00:00');
const NOW = at('2026-02-01T01:00:00');

interface Lineage {
  period: string;
  closed: boolean;
  version: number;
  value: number | null;
  status: string;
  statusReason: string;
  statusWhy: string;
  captureThreshold: number;
  closesAt: string | null;
  lineage: {
    formula: string;
    formulaVersion: string;
    devices: string[];
    series: Array<{ scope: string; key: string; metric: string; readings: number; expected: number }>;
    manualInputs: Array<{ name: string; value: number; source: string }>;
  };
}

describe('KPI lineage API: value, status and why, per period', () => {
  let t: TestPlatform;
  let device: string;
  const clock = new ManualClock(INSTALLED);
  const lineage = (period: string) =>
    t.api<Lineage>('GET', `/api/kpis/EN-EN-EQ-2A/lineage?period=${encodeURIComponent(period)}`);

  beforeAll(async () => {
    t = await startTestPlatform({ cityTimezone: ZONE, kpiCloseGraceDays: 5 }, clock);
    ({ id: device } = await t.provision(
      'noise-monitor',
      'centre',
      { residentsExposed: 10 },
      new Date(INSTALLED).toISOString(),
    ));
    const series = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => ({
        deviceId: device,
        kind: 'noise-monitor',
        district: 'centre',
        metric: 'laeq',
        ts: from + i * MIN,
        value: 60,
      }));
    expect(
      (await t.api('PUT', '/api/city-profile', { population: 1_000, effectiveFrom: '2020-01-01' })).status,
    ).toBe(200);
    await t.platform.store.write([
      ...series(INSTALLED, 240),
      ...series(at('2026-01-10T00:00:00'), 1000),
      ...series(at('2026-02-01T00:00:00'), 60),
    ]);
    // the scheduler checks during the move: December is past its grace period and closes by itself
    clock.set(NOW);
    await t.platform.kpis.engine.computeAll();
    await t.platform.kpis.monthClose.tick(); // after that check
    expect((await t.api('POST', '/api/rollups/2026-01/close')).status).toBe(201);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('a closed, complete month is final, and says so with the threshold', async () => {
    const res = await lineage('2025-12');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      closed: true,
      version: 1,
      status: 'final',
      statusReason: 'complete',
      captureThreshold: 0.9,
    });
    expect(res.body.statusWhy).toBe('closed, completeness 100 % meets the capture threshold 90 %');
    expect(res.body.lineage.devices).toEqual([device]);
    expect(res.body.lineage.series).toEqual([
      expect.objectContaining({ scope: 'device', key: device, metric: 'laeq', readings: 240, expected: 240 }),
    ]);
    expect(res.body.lineage.manualInputs).toEqual([
      expect.objectContaining({ name: 'population', value: 1000, source: 'city profile' }),
    ]);
    expect(res.body.lineage.formulaVersion).toMatch(/\S/);
  });

  it('a closed month short of readings is provisional below the capture threshold', async () => {
    const res = await lineage('2026-01');
    expect(res.body).toMatchObject({ closed: true, status: 'provisional', statusReason: 'below-capture' });
    expect(res.body.statusWhy).toBe('completeness 2.2 % is below the capture threshold 90 %');
    expect(res.body.lineage.series[0]).toMatchObject({ readings: 1000, expected: 44_640 });
  });

  it('the running month, the running quarter and year, and the rolling 12 months are never final', async () => {
    const mtd = await lineage('2026-02-mtd');
    expect(mtd.body).toMatchObject({ closed: false, status: 'provisional', statusReason: 'running-period' });
    expect(mtd.body.closesAt).toBeNull();
    expect(mtd.body.statusWhy).toContain('never final');
    expect(mtd.body.lineage.series[0]).toMatchObject({ readings: 60, expected: 60 });

    const quarter = await lineage('2026-Q1');
    expect(quarter.body).toMatchObject({
      period: '2026-Q1',
      status: 'provisional',
      statusReason: 'grace-period',
      closesAt: new Date(at('2026-04-06T00:00:00')).toISOString(),
    });
    expect(quarter.body.statusWhy).toContain('closes on 2026-04-06');

    const r12 = await lineage('2026-02-r12');
    expect(r12.body).toMatchObject({
      period: '2026-02-r12',
      status: 'provisional',
      statusReason: 'running-period',
    });
    // December, January and February so far: every reading in the window counts
    expect(r12.body.lineage.series[0]?.readings).toBe(240 + 1000 + 60);
  });

  it('the running values of the KPI list carry the reason too', async () => {
    const list = await t.api<{
      items: Array<{ code: string; current: Record<string, { statusReason?: string } | null> }>;
    }>('GET', '/api/kpis');
    const noise = list.body.items.find((i) => i.code === 'EN: EN: EQ: 2A')!;
    expect(noise.current['month-to-date']?.statusReason).toBe('running-period');
  });

  it('documents the answer in the OpenAPI document', async () => {
    const doc = await t.api<{
      paths: Record<
        string,
        Record<
          string,
          { responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }> }
        >
      >;
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    }>('GET', '/api/openapi.json');
    const ok = doc.body.paths['/api/kpis/{code}/lineage']?.get?.responses['200'];
    expect(ok?.content?.['application/json']?.schema.$ref).toBe('#/components/schemas/KpiLineage');
    expect(Object.keys(doc.body.components.schemas.KpiLineage?.properties ?? {})).toEqual(
      expect.arrayContaining([
        'status',
        'statusReason',
        'statusWhy',
        'captureThreshold',
        'closesAt',
        'lineage',
      ]),
    );
    expect(doc.body.components.schemas).toHaveProperty('Lineage');
  });
});
