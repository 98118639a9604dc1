import { DateTime } from 'luxon';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/platform-harness.ts';

/**
 * The analyst's path through the API: manual values (with and without override), a CSV sheet, the city
 * profile, targets, a month closed on demand and by the scheduler, a restatement caused by a manual value,
 * exports, lineage, and the live push of KPI changes.
 */

const ZONE = 'Europe/Paris';
const APRIL_10 = DateTime.fromISO('2026-04-10T12:00:00', { zone: ZONE }).toMillis();

interface Item {
  code: string;
  compactCode: string;
  obtained: string;
  current: Record<string, { value: number | null; source: string; period: string } | null>;
  score: { band: string } | null;
}

describe('KPI API', () => {
  let t: TestPlatform;
  const clock = new ManualClock(APRIL_10);
  const raw = async (method: string, path: string, body: string, type: string) => {
    const res = await fetch(`${t.addresses.httpUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': type },
      body,
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    t = await startTestPlatform({ cityTimezone: ZONE, kpiCloseGraceDays: 5 }, clock);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('lists the 91 KPIs with current values, filtered by how they are obtained', async () => {
    const all = await t.api<{ items: Item[] }>('GET', '/api/kpis');
    expect(all.status).toBe(200);
    expect(all.body.items).toHaveLength(91);
    expect(all.body.items[0]!.current['month-to-date']?.period).toBe('2026-04-mtd');
    const manual = await t.api<{ items: Item[] }>('GET', '/api/kpis?obtained=manual');
    expect(manual.body.items.every((k) => k.obtained === 'manual')).toBe(true);
    expect(manual.body.items).toHaveLength(64);
    const bad = await t.api<{ error: { code: string } }>('GET', '/api/kpis/XX-YY-1C');
    expect(bad.body.error.code).toBe('METRICS_UNKNOWN_KPI');
  });

  it('takes a manual value, pushes it live, and refuses to overwrite a sensor KPI without override', async () => {
    const socket = io(t.addresses.httpUrl, {
      path: '/socket.io',
      auth: { token: t.adminToken },
      transports: ['websocket'],
    });
    const pushed = new Promise<{ code: string; value: { value: number } }>((resolve) => {
      socket.on('kpi', (k: { code: string; value: { value: number } }) => {
        if (k.code === 'EC: ICT: ICT: 1C') resolve(k);
      });
    });
    await new Promise<void>((resolve) => socket.once('hello', () => resolve()));
    const res = await t.api('POST', `/api/kpis/${encodeURIComponent('EC: ICT: ICT: 1C')}/values`, {
      period: '2026',
      value: 91.5,
      unit: '%',
      dataQuality: 'extrapolated-survey',
      source: 'national statistics office',
      evidence: 'https://example.org/ict-survey-2026',
    });
    expect(res.status).toBe(201);
    clock.advance(t.platform.config.livePushIntervalMs); // the live push is due
    expect((await pushed).value.value).toBe(91.5);
    socket.close();

    const conflict = await t.api<{ error: { code: string; field: string } }>(
      'POST',
      '/api/kpis/EC-ICT-T-2C/values',
      {
        period: '2026-03',
        value: 40,
        unit: '%',
        dataQuality: 'accurate-measurement',
        source: 'traffic department',
      },
    );
    expect(conflict.status).toBe(409);
    expect(conflict.body.error).toMatchObject({ code: 'METRICS_OVERRIDE_REQUIRED', field: 'override' });
    const override = await t.api('POST', '/api/kpis/EC-ICT-T-2C/values', {
      period: '2026-04',
      value: 40,
      unit: '%',
      dataQuality: 'accurate-measurement',
      source: 'traffic department',
      override: true,
    });
    expect(override.status).toBe(201);
    const detail = await t.api<Item>('GET', '/api/kpis/EC-ICT-T-2C');
    expect(detail.body.current['month-to-date']).toMatchObject({ value: 40, source: 'override' });
    const lineage = await t.api<{ lineage: { notes: string[] } }>(
      'GET',
      '/api/kpis/EC-ICT-T-2C/lineage?period=2026-04-mtd',
    );
    expect(
      lineage.body.lineage.notes.some((n) => n.startsWith('override: computed NR % replaced by manual 40 %')),
    ).toBe(true);
  });

  it('imports a CSV sheet all or nothing, naming the bad row and column', async () => {
    const header = 'code,data_point,period,value,unit,data_quality,source,evidence';
    const bad = [
      header,
      'EC: ICT: ICT: 2C,,2026,55,%,accurate-measurement,ISP,',
      'EC: I: WS: 1C,,2026,250,%,accurate-measurement,utility,',
    ].join('\n');
    const refused = await raw('POST', '/api/manual-inputs/import', bad, 'text/csv');
    expect(refused.status).toBe(400);
    const error = refused.body.error as {
      code: string;
      details: { errors: Array<{ row: number; column: string; code: string }> };
    };
    expect(error.code).toBe('METRICS_IMPORT_INVALID');
    expect(error.details.errors).toEqual([
      expect.objectContaining({ row: 3, column: 'value', code: 'METRICS_VALUE_OUT_OF_RANGE' }),
    ]);
    const before = await t.api<Item>('GET', '/api/kpis/EC-ICT-ICT-2C');
    expect(before.body.current['year-to-date']?.value).toBeNull();

    const good = [
      header,
      'EC: ICT: ICT: 2C,,2026,55,%,accurate-measurement,ISP,',
      'EC: I: WS: 1C,,2026,98,%,accurate-measurement,utility,',
    ].join('\n');
    const imported = await raw('POST', '/api/manual-inputs/import', good, 'text/csv');
    expect(imported.status).toBe(201);
    expect(imported.body.imported).toBe(2);
    const after = await t.api<Item>('GET', '/api/kpis/EC-I-WS-1C');
    expect(after.body.current['year-to-date']).toMatchObject({ value: 98, source: 'manual' });
    expect(after.body.score?.band).toBe('95–100 %');
  });

  it('closes a month, restates it when a manual value for it arrives, and exports it', async () => {
    const early = await t.api<{ error: { code: string } }>('POST', '/api/rollups/2026-04/close');
    expect(early.body.error.code).toBe('METRICS_PERIOD_NOT_ENDED');
    const closed = await t.api('POST', '/api/rollups/2026-03/close');
    expect(closed.status).toBe(201);
    const v1 = await t.api<{
      version: number;
      closed: boolean;
      entries: Array<{ code: string; value: number | null }>;
    }>('GET', '/api/rollups/2026-03');
    expect(v1.body).toMatchObject({ version: 1, closed: true });
    expect(v1.body.entries.find((e) => e.code === 'EC: ICT: ICT: 1C')?.value).toBe(91.5);

    const res = await t.api('POST', '/api/kpis/EC-ICT-ICT-1C/values', {
      period: '2026-03',
      value: 92.5,
      unit: '%',
      dataQuality: 'accurate-measurement',
      source: 'ISP subscriber records',
    });
    expect(res.status).toBe(201);
    const rs = await t.api<{ restatements: Array<Record<string, unknown>> }>(
      'GET',
      '/api/rollups/2026-03/restatements',
    );
    expect(rs.body.restatements).toEqual([
      expect.objectContaining({
        code: 'EC: ICT: ICT: 1C',
        version: 2,
        oldValue: 91.5,
        newValue: 92.5,
        cause: 'manual value changed: EC: ICT: ICT: 1C for 2026-03 91.5 → 92.5',
        causes: [
          {
            kind: 'manual-input',
            subjectType: 'kpi',
            subject: 'EC: ICT: ICT: 1C',
            dataPoint: null,
            period: '2026-03',
            oldValue: 91.5, // the yearly figure the month held before
            newValue: 92.5,
          },
        ],
      }),
    ]);

    const xlsx = await fetch(`${t.addresses.httpUrl}/api/rollups/2026-03/export.xlsx`, {
      headers: { authorization: `Bearer ${t.adminToken}` },
    });
    expect(xlsx.status).toBe(200);
    expect(xlsx.headers.get('content-type')).toContain('spreadsheetml');
    expect(
      Buffer.from(await xlsx.arrayBuffer())
        .subarray(0, 2)
        .toString(),
    ).toBe('PK');
    const csv = await fetch(`${t.addresses.httpUrl}/api/rollups/2026-03/export.csv`, {
      headers: { authorization: `Bearer ${t.adminToken}` },
    });
    expect(await csv.text()).toContain('92.5');
    const consistency = await t.api<{ findings: unknown[]; version: number }>(
      'GET',
      '/api/rollups/2026-03/consistency',
    );
    expect(consistency.status).toBe(200);
    expect(consistency.body.version).toBe(2);
  });

  it('closes due months by itself after the grace period, and profile figures feed per-capita KPIs', async () => {
    const profile = await t.api('PUT', '/api/city-profile', {
      population: 250_000,
      effectiveFrom: '2020-01-01',
    });
    expect(profile.status).toBe(200);
    const tz = await t.api<{ error: { code: string } }>('PUT', '/api/city-profile', {
      timeZone: 'UTC',
      population: 1,
    });
    expect(tz.body.error.code).toBe('API_CONFLICT');
    // devices exist from now on: April is the first month the scheduler owes a close
    await t.provision('air-quality-station', 'centre');
    expect(t.platform.kpis.monthClose.dueMonths()).toEqual([]);
    // the scheduler's check falls in the move: April closes by itself, leaving nothing for a check after it
    clock.set(DateTime.fromISO('2026-05-06T00:30:00', { zone: ZONE }).toMillis());
    expect(await t.platform.kpis.monthClose.tick()).toEqual([]);
    expect(t.platform.kpis.monthClose.dueMonths()).toEqual([]);
    expect(t.platform.kpis.kpiStore.latestRollup('2026-04')).toMatchObject({
      version: 1,
      closedBy: 'scheduler',
    });
    const target = await t.api('PUT', '/api/targets/EN-EN-WS-2C', { value: 150, source: 'city water plan' });
    expect(target.status).toBe(200);
    const got = await t.api<{ target: { value: number }; configured: boolean }>(
      'GET',
      '/api/targets/EN-EN-WS-2C',
    );
    expect(got.body).toMatchObject({ target: { value: 150 }, configured: true });
    // April is closed: the new target re-scores it as a restatement, not silently
    const history = await t.api<{ versions: Array<{ version: number; causes: unknown[] }> }>(
      'GET',
      '/api/rollups/2026-04/versions',
    );
    expect(history.body.versions.at(-1)).toMatchObject({
      version: 2,
      causes: [expect.objectContaining({ kind: 'target', code: 'EN: EN: WS: 2C', newTarget: 150 })],
    });
  });
});
