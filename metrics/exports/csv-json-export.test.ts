import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { loadCatalogue } from '../catalogue/catalogue.ts';
import { CSV_COLUMNS, toCsv } from './csv-export.ts';
import { ROLLUP_JSON_SCHEMA_VERSION, rollupDocumentSchema, toJson } from './json-export.ts';
import { sortEntries } from './rollup-entry.ts';
import { entry, lineageFixture } from './rollup-fixture.ts';

const AIR = 'EN: EN: AQ: 1C';
const entries = [
  entry('SC: SH: SA: 4A', null, 3.25, {
    provisional: true,
    completeness: 0.8765,
    band: '66–95 %',
    points: 3,
    target: 2.5,
  }),
  entry(AIR, 'NO2', 21.4, { band: '33–66 %', points: 2, target: 10, lineage: lineageFixture() }),
  entry(AIR, 'PM2.5', 8.1, { band: '33–66 %', points: 2, target: 5, dataQuality: 'extrapolated-survey' }),
  entry('EC: I: WS: 1C', null, null),
  // a name with a comma, a quote and a line break: RFC 4180 quoting must carry it through
  {
    ...entry('EC: ICT: ICT: 1C', null, 1e-7),
    name: 'Household "Internet", access\r\nline two',
    source: 'override' as const,
  },
];

describe('toCsv', () => {
  const csv = toCsv(entries);
  const rows: string[][] = parse(csv, { bom: true });

  it('round-trips through csv-parse: header, one row per KPI and data point, every field', () => {
    expect(rows[0]).toEqual([...CSV_COLUMNS]);
    expect(rows).toHaveLength(entries.length + 1);
    const byKey = new Map(rows.slice(1).map((r) => [`${r[0]}|${r[5]}`, r]));
    const col = (name: (typeof CSV_COLUMNS)[number]) => CSV_COLUMNS.indexOf(name);
    for (const e of entries) {
      const r = byKey.get(`${e.code}|${e.dataPoint ?? ''}`);
      expect(r, e.code).toBeDefined();
      expect(r![col('name')]).toBe(e.name);
      expect(r![col('dimension')]).toBe(e.dimension);
      expect(r![col('sub-dimension')]).toBe(e.subDimension);
      expect(r![col('category')]).toBe(e.category);
      expect(r![col('value')]).toBe(e.value === null ? 'NR' : String(e.value));
      if (e.value !== null) expect(Number(r![col('value')])).toBe(e.value);
      expect(r![col('unit')]).toBe(e.unit);
      expect(r![col('period')]).toBe(e.period);
      expect(r![col('data quality')]).toBe(e.dataQuality ?? '');
      expect(r![col('status')]).toBe(e.status === 'no-data-expected' ? 'no data expected' : e.status);
      expect(r![col('source')]).toBe(e.source ?? '');
      expect(r![col('benchmark band')]).toBe(e.band ?? '');
      expect(r![col('points')]).toBe(e.points === null ? '' : String(e.points));
      expect(r![col('target')]).toBe(e.target === null ? '' : String(e.target));
      expect(r![col('version')]).toBe(String(e.version));
    }
    expect(byKey.get('SC: SH: SA: 4A|')![col('completeness (%)')]).toBe('87.7');
    expect(byKey.get('EC: I: WS: 1C|')![col('completeness (%)')]).toBe('');
  });

  it('writes RFC 4180: CRLF record ends, a BOM by default and none on request', () => {
    expect(csv.startsWith('\uFEFFcode,name,')).toBe(true);
    expect(csv.endsWith('\r\n')).toBe(true);
    expect(csv).toContain('"Household ""Internet"", access\r\nline two"');
    expect(toCsv(entries, { bom: false }).startsWith('code,name,')).toBe(true);
  });

  it('orders rows by the catalogue hierarchy, data points in catalogue order', () => {
    const expected = sortEntries(entries, loadCatalogue()).map((e) => `${e.code}|${e.dataPoint ?? ''}`);
    expect(rows.slice(1).map((r) => `${r[0]}|${r[5]}`)).toEqual(expected);
    const air = rows.slice(1).filter((r) => r[0] === AIR);
    expect(air.map((r) => r[5])).toEqual(['PM2.5', 'NO2']);
  });

  it('writes only the header for an empty roll-up', () => {
    expect(parse(toCsv([]), { bom: true })).toEqual([[...CSV_COLUMNS]]);
  });
});

describe('toJson', () => {
  const input = {
    cityName: 'Tallinn',
    period: '2025',
    version: 3,
    closed: true,
    entries: [...entries, entry('EN: EN: WS: 2C', null, Number.NaN)],
    findings: [
      {
        rule: 'percent-out-of-bounds',
        severity: 'error' as const,
        codes: ['EC: ICT: ICT: 1C'],
        message: 'x',
      },
    ],
    scores: { dimensions: [{ dimension: 'Environment', percent: 50 }] },
    generatedAt: Date.UTC(2026, 0, 15, 12),
  };

  it('writes a document that matches its published schema', () => {
    const doc = rollupDocumentSchema.parse(JSON.parse(toJson(input)));
    expect(doc.schemaVersion).toBe(ROLLUP_JSON_SCHEMA_VERSION);
    expect(doc.kind).toBe('citymetrics.u4ssc-rollup');
    expect(doc.generatedAt).toBe('2026-01-15T12:00:00.000Z');
    expect(doc.city).toEqual({ name: 'Tallinn' });
    expect(doc.status).toBe('closed');
    expect(doc.version).toBe(3);
    expect(doc.entries).toHaveLength(input.entries.length);
    expect(doc.findings).toEqual(input.findings);
    expect(doc.scores).toEqual(input.scores);
  });

  it('keeps NR as null, a non-finite value as null, and lineage intact', () => {
    const doc = rollupDocumentSchema.parse(JSON.parse(toJson(input)));
    expect(doc.entries.find((e) => e.code === 'EC: I: WS: 1C')!.value).toBeNull();
    expect(doc.entries.find((e) => e.code === 'EN: EN: WS: 2C')!.value).toBeNull();
    expect(doc.entries.find((e) => e.dataPoint === 'NO2')!.lineage).toEqual(lineageFixture());
  });

  it('is stable: fixed key order, byte-identical for the same input in any entry order', () => {
    const a = toJson(input);
    const b = toJson({ ...input, entries: [...input.entries].reverse() });
    expect(b).toBe(a);
    const doc = JSON.parse(a);
    expect(Object.keys(doc)).toEqual([
      'schemaVersion',
      'kind',
      'generatedAt',
      'city',
      'period',
      'version',
      'status',
      'entries',
      'findings',
      'scores',
    ]);
    expect(Object.keys(doc.entries[0])).toEqual(
      Object.keys(rollupDocumentSchema.shape.entries.element.shape),
    );
  });

  it('marks an open period provisional and leaks no extra input fields', () => {
    const extra = { ...entries[0]!, secret: 'x' } as (typeof entries)[number];
    const doc = JSON.parse(toJson({ ...input, closed: false, entries: [extra] }));
    expect(doc.status).toBe('provisional');
    expect(doc.entries[0].secret).toBeUndefined();
    expect(() => rollupDocumentSchema.parse(doc)).not.toThrow();
  });
});
