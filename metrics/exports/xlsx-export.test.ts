import ExcelJS from 'exceljs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCatalogue } from '../catalogue/catalogue.ts';
import { aggregateScores } from '../scoring.ts';
import { consistencyReport } from './consistency.ts';
import type { RollupEntry } from './rollup-entry.ts';
import { entry, fullRollup, lineageFixture, withValue } from './rollup-fixture.ts';
import { toXlsx, VALUES_COLUMNS, valuesColumn, XLSX_SHEETS } from './xlsx-export.ts';
import { BAND_FILLS } from './xlsx-style.ts';

const AIR = 'EN: EN: AQ: 1C';
const HEADER_ROW = 4;

const rollup: RollupEntry[] = [
  ...withValue(fullRollup(), 'EC: I: WS: 1C', null, null).map((e) =>
    e.code === AIR ? { ...e, lineage: lineageFixture() } : e,
  ),
];
// one entry per band, and one provisional
const scored: Record<string, Partial<RollupEntry>> = {
  'EC: I: WS: 2C': { band: '0–33 %', points: 1, target: 100 },
  'EC: I: WS: 5C': { band: '33–66 %', points: 2, target: 100 },
  'EC: I: WA: 1C': { band: '66–95 %', points: 3, target: 100 },
  'EC: I: ES: 3C': {
    band: '95–100 %',
    points: 4,
    target: 100,
    status: 'provisional',
    provisional: true,
    completeness: 0.5,
  },
};
const entries = rollup.map((e) => (scored[e.code] ? { ...e, ...scored[e.code] } : e));
const findings = consistencyReport(withValue(entries, 'EN: EN: WS: 4C', 'Tertiary', 95));
const scores = aggregateScores(
  entries.filter((e) => e.points !== null).map((e) => ({ code: e.code, points: e.points! })),
  loadCatalogue(),
);

async function readBack(buffer: Buffer): Promise<ExcelJS.Workbook> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(buffer as unknown as Parameters<typeof wb.xlsx.load>[0]);
  return wb;
}

describe('toXlsx', () => {
  let wb: ExcelJS.Workbook;
  let values: ExcelJS.Worksheet;
  const rowOf = (code: string, dataPoint = ''): ExcelJS.Row => {
    for (let n = HEADER_ROW + 1; n <= values.rowCount; n++) {
      const r = values.getRow(n);
      if (
        r.getCell(valuesColumn('Code')).value === code &&
        r.getCell(valuesColumn('Data point')).value === dataPoint
      )
        return r;
    }
    throw new Error(`no row ${code} ${dataPoint}`);
  };

  beforeAll(async () => {
    const buffer = await toXlsx({
      cityName: 'Tallinn',
      period: '2025',
      version: 2,
      closed: false,
      entries,
      findings,
      scores,
      generatedAt: Date.UTC(2026, 0, 15),
    });
    expect(buffer.subarray(0, 2).toString()).toBe('PK'); // a zip container
    wb = await readBack(buffer);
    values = wb.getWorksheet('Values')!;
  });

  it('has the four sheets in order, each with title rows', () => {
    expect(wb.worksheets.map((w) => w.name)).toEqual([...XLSX_SHEETS]);
    for (const ws of wb.worksheets) {
      expect(String(ws.getCell('A1').value)).toContain('Tallinn');
      const sub = String(ws.getCell('A2').value);
      expect(sub).toContain('2025');
      expect(sub).toContain('version 2');
      expect(sub).toContain('provisional');
      expect(sub).toContain('2026-01-15T00:00:00.000Z');
    }
  });

  it('Values: bold, frozen header with an autofilter, one row per KPI and data point', () => {
    const header = values.getRow(HEADER_ROW);
    expect(VALUES_COLUMNS.map((_, i) => header.getCell(i + 1).value)).toEqual(
      VALUES_COLUMNS.map((c) => c.header),
    );
    expect(header.getCell(1).font?.bold).toBe(true);
    expect(values.views[0]).toMatchObject({ state: 'frozen', ySplit: HEADER_ROW });
    expect(values.autoFilter).toBeTruthy();
    expect(values.actualRowCount).toBe(2 + 1 + entries.length); // title, subtitle, header, data
  });

  it('Values: rows grouped by dimension, sub-dimension and category', () => {
    const seen: string[] = [];
    for (let n = HEADER_ROW + 1; n <= values.rowCount; n++) {
      const r = values.getRow(n);
      const key = [1, 2, 3].map((c) => r.getCell(c).value).join(' > ');
      if (seen[seen.length - 1] !== key) seen.push(key);
    }
    expect(new Set(seen).size).toBe(seen.length); // each group is contiguous
    const air = entries.filter((e) => e.code === AIR);
    expect(rowOf(AIR, 'PM2.5').number + air.length - 1).toBe(rowOf(AIR, 'O3').number);
  });

  it('Values: NR as text, numbers with a unit format, provisional rows marked', () => {
    const nr = rowOf('EC: I: WS: 1C').getCell(valuesColumn('Value'));
    expect(nr.value).toBe('NR');
    const pm = rowOf(AIR, 'PM2.5').getCell(valuesColumn('Value'));
    expect(pm.value).toBe(10);
    expect(pm.numFmt).toBe('0.0');
    const pct = rowOf('EC: ICT: ICT: 1C').getCell(valuesColumn('Value'));
    expect(pct.numFmt).toBe('0.0');
    const prov = rowOf('EC: I: ES: 3C');
    expect(prov.getCell(valuesColumn('Status')).value).toBe('provisional');
    expect(prov.getCell(valuesColumn('KPI')).font?.italic).toBe(true);
    expect(prov.getCell(valuesColumn('Completeness')).value).toBe(0.5);
    expect(prov.getCell(valuesColumn('Completeness')).numFmt).toBe('0.0%');
    expect(rowOf('EC: I: WS: 2C').getCell(valuesColumn('Status')).value).toBe('final');
    expect(rowOf('EC: I: WS: 2C').getCell(valuesColumn('Data quality')).value).toBe('Accurate measurement');
  });

  it('Values: the band cell is coloured by points (1 red … 4 green)', () => {
    const fill = (code: string) =>
      (rowOf(code).getCell(valuesColumn('Benchmark band')).fill as ExcelJS.FillPattern | undefined)?.fgColor
        ?.argb;
    expect(fill('EC: I: WS: 2C')).toBe(BAND_FILLS[1]);
    expect(fill('EC: I: WS: 5C')).toBe(BAND_FILLS[2]);
    expect(fill('EC: I: WA: 1C')).toBe(BAND_FILLS[3]);
    expect(fill('EC: I: ES: 3C')).toBe(BAND_FILLS[4]);
    expect(fill('EC: ICT: ICT: 1C')).toBeUndefined();
  });

  it('Scores: dimension, sub-dimension and category rows with percent and coloured band', () => {
    const ws = wb.getWorksheet('Scores')!;
    const n = scores.dimensions.length + scores.subDimensions.length + scores.categories.length;
    expect(ws.actualRowCount).toBe(3 + n);
    const first = ws.getRow(HEADER_ROW + 1);
    expect(first.getCell(1).value).toBe('dimension');
    const dim = scores.dimensions.find((d) => d.dimension === first.getCell(2).value)!;
    expect(first.getCell(5).value).toBeCloseTo(dim.percent / 100, 10);
    expect(first.getCell(6).value).toBe(dim.band);
    expect((first.getCell(6).fill as ExcelJS.FillPattern).fgColor?.argb).toBe(
      BAND_FILLS[(['0–33 %', '33–66 %', '66–95 %', '95–100 %'].indexOf(dim.band) + 1) as 1 | 2 | 3 | 4],
    );
  });

  it('Consistency: one row per finding', () => {
    const ws = wb.getWorksheet('Consistency')!;
    expect(findings.length).toBeGreaterThan(0);
    expect(ws.actualRowCount).toBe(3 + findings.length);
    const rules = Array.from(
      { length: findings.length },
      (_, i) => ws.getRow(HEADER_ROW + 1 + i).getCell(2).value,
    );
    expect(rules).toContain('wastewater-tertiary-le-secondary');
  });

  it('Lineage: one row per entry with formula version, devices, series, readings, time range, inputs', () => {
    const ws = wb.getWorksheet('Lineage')!;
    expect(ws.actualRowCount).toBe(3 + entries.length);
    let air: ExcelJS.Row | undefined;
    ws.eachRow((r) => {
      if (r.getCell(1).value === AIR && r.getCell(2).value === 'NO2') air = r;
    });
    expect(air).toBeDefined();
    const l = lineageFixture();
    expect(air!.getCell(4).value).toBe(l.formulaVersion);
    expect(air!.getCell(5).value).toBe(2);
    expect(air!.getCell(6).value).toBe(2);
    expect(air!.getCell(7).value).toBe(1444);
    expect(air!.getCell(8).value).toBe(l.timeRange!.from);
    expect(String(air!.getCell(10).value)).toContain('population = 250000 inhabitants');
    expect(String(air!.getCell(12).value)).toContain('capture threshold');
  });

  it('writes an empty roll-up with a "no findings" line', async () => {
    const wb2 = await readBack(
      await toXlsx({
        cityName: 'Empty',
        period: '2025-03',
        version: 1,
        closed: true,
        entries: [entry('EC: I: WS: 1C', null, null)],
        findings: [],
        scores: {
          categories: [],
          subDimensions: [],
          dimensions: [{ name: 'Economy', percent: 40, band: '33–66 %', points: 8, maxPoints: 20 }],
        },
      }),
    );
    expect(String(wb2.getWorksheet('Values')!.getCell('A2').value)).toContain('closed');
    expect(
      String(
        wb2
          .getWorksheet('Consistency')!
          .getRow(HEADER_ROW + 1)
          .getCell(4).value,
      ),
    ).toContain('no findings');
    expect(
      wb2
        .getWorksheet('Scores')!
        .getRow(HEADER_ROW + 1)
        .getCell(2).value,
    ).toBe('Economy');
    expect(
      wb2
        .getWorksheet('Lineage')!
        .getRow(HEADER_ROW + 1)
        .getCell(12).value,
    ).toBe('no lineage recorded');
  });
});
