import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.ts';
import { valuesColumn } from '../../metrics/exports/xlsx-export.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/platform-harness.ts';

/**
 * One month, one status, on every surface: the KPI API (list, detail, lineage), the roll-up (the city
 * snapshot reads it) and the CSV, XLSX and JSON exports. Four months of one noise monitor (60 s interval):
 * November before it existed (nothing expected), December complete and closed by the scheduler, January
 * incomplete and closed on demand, February running (complete so far, yet provisional).
 */

const ZONE = 'Europe/Paris';
const NOISE = 'EN: EN: EQ: 2A';
const MIN = 60_000;
const at = (iso: string) => DateTime.fromISO(iso, { zone: ZONE }).toMillis();
const INSTALLED = at('2025-12-31T20:00:00');
const NOW = at('2026-02-01T01:00:00');

// Expected statuses worked out by hand from the rule: final = closed and completeness ≥ 0.9;
// nothing expected = its own status; a running period is provisional whatever its completeness.
const EXPECTED: Record<string, { label: string; status: string }> = {
  '2025-11': { label: '2025-11', status: 'no-data-expected' }, // device installed after November
  '2025-12': { label: '2025-12', status: 'final' }, // 240 of 240 readings (20:00–24:00), past grace
  '2026-01': { label: '2026-01', status: 'provisional' }, // 1 000 of 44 640 readings, closed on demand
  '2026-02': { label: '2026-02-mtd', status: 'provisional' }, // 60 of 60 readings, still running
};
const CSV_TEXT: Record<string, string> = {
  final: 'final',
  provisional: 'provisional',
  'no-data-expected': 'no data expected',
};

interface Entry {
  code: string;
  dataPoint: string | null;
  status: string;
  provisional: boolean;
  completeness: number | null;
}

describe('KPI status agreement across surfaces', () => {
  let t: TestPlatform;
  const clock = new ManualClock(INSTALLED);
  const get = async (path: string) =>
    fetch(`${t.addresses.httpUrl}${path}`, { headers: { authorization: `Bearer ${t.adminToken}` } });

  beforeAll(async () => {
    t = await startTestPlatform({ cityTimezone: ZONE, kpiCloseGraceDays: 5 }, clock);
    const { id } = await t.provision(
      'noise-monitor',
      'centre',
      { residentsExposed: 10 },
      new Date(INSTALLED).toISOString(),
    );
    const series = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => ({
        deviceId: id,
        kind: 'noise-monitor',
        district: 'centre',
        metric: 'laeq',
        ts: from + i * MIN,
        value: 60,
      }));
    // The population Noise Exposure is a share of: without it the value is NR, which is never final.
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
    await t.platform.kpis.monthClose.tick(); // after that check, which closes December and the year
    expect(t.platform.kpis.kpiStore.closedPeriods()).toEqual(['2025', '2025-12']);
    expect((await t.api('POST', '/api/rollups/2026-01/close')).status).toBe(201);
  });
  afterAll(async () => {
    await t?.close();
  });

  it.each(Object.entries(EXPECTED))('%s: API, roll-up and every export agree', async (month, want) => {
    // KPI API: lineage of the period (the live page's month-to-date tile for February)
    const lineage = await t.api<{ view?: Entry; entries?: Entry[] }>(
      'GET',
      `/api/kpis/EN-EN-EQ-2A/lineage?period=${want.label}`,
    );
    const apiStatus = lineage.body.view?.status ?? lineage.body.entries?.[0]?.status;
    expect(apiStatus).toBe(want.status);
    if (want.label.endsWith('-mtd')) {
      const list = await t.api<{ items: Array<{ code: string; current: Record<string, Entry | null> }> }>(
        'GET',
        '/api/kpis',
      );
      const noise = list.body.items.find((i) => i.code === NOISE)!;
      expect(noise.current['month-to-date']).toMatchObject({ status: 'provisional', completeness: 1 });
      // nothing running is final
      const finals = list.body.items.filter((i) =>
        Object.values(i.current).some((v) => v?.status === 'final'),
      );
      expect(finals.map((i) => i.code)).toEqual([]);
    }
    if (want.status === 'no-data-expected') expect(lineage.body.view?.completeness).toBeNull();

    // roll-up (the city snapshot page reads this)
    const rollup = await t.api<{ entries: Entry[] }>('GET', `/api/rollups/${month}`);
    const byKey = new Map(rollup.body.entries.map((e) => [`${e.code}|${e.dataPoint ?? ''}`, e]));
    expect(byKey.get(`${NOISE}|`)?.status).toBe(want.status);
    for (const e of rollup.body.entries) expect(e.provisional).toBe(e.status !== 'final');

    // a closed month's detail shows the same frozen entry
    if (want.status !== 'no-data-expected' && !want.label.endsWith('-mtd')) {
      const detail = await t.api<{ closed: Array<{ period: string; entries: Entry[] }> }>(
        'GET',
        '/api/kpis/EN-EN-EQ-2A',
      );
      expect(detail.body.closed.find((c) => c.period === month)?.entries[0]?.status).toBe(want.status);
    }

    // JSON export: every entry as the roll-up says
    const json = (await (await get(`/api/rollups/${month}/export.json`)).json()) as { entries: Entry[] };
    expect(json.entries).toHaveLength(rollup.body.entries.length);
    for (const e of json.entries) expect(e.status).toBe(byKey.get(`${e.code}|${e.dataPoint ?? ''}`)?.status);

    // CSV export
    const rows = parse(await (await get(`/api/rollups/${month}/export.csv`)).text(), {
      bom: true,
      columns: true,
    }) as Array<Record<string, string>>;
    expect(rows).toHaveLength(rollup.body.entries.length);
    for (const r of rows) expect(r.status).toBe(CSV_TEXT[byKey.get(`${r.code}|${r['data point']}`)!.status]);

    // XLSX export
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load((await (await get(`/api/rollups/${month}/export.xlsx`)).arrayBuffer()) as never);
    const ws = wb.getWorksheet('Values')!;
    let seen = 0;
    ws.eachRow((row) => {
      const code = row.getCell(valuesColumn('Code')).value;
      const e = byKey.get(`${String(code)}|${String(row.getCell(valuesColumn('Data point')).value ?? '')}`);
      if (e === undefined) return;
      seen++;
      expect(row.getCell(valuesColumn('Status')).value).toBe(CSV_TEXT[e.status]);
    });
    expect(seen).toBe(rollup.body.entries.length);
  });
});
