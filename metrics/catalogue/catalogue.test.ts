import { describe, expect, it } from 'vitest';
import {
  compactCode,
  expandCode,
  KpiCatalogue,
  kpiHierarchy,
  listKpis,
  loadCatalogue,
  parseCodeParam,
} from './catalogue.ts';

describe('KPI catalogue', () => {
  const cat = loadCatalogue();

  it('holds the 91 U4SSC KPIs: 55 core, 36 advanced, 3 dimensions, 7 sub-dimensions, unique codes', () => {
    expect(cat.kpis).toHaveLength(91);
    expect(listKpis({ level: 'core' })).toHaveLength(55);
    expect(listKpis({ level: 'advanced' })).toHaveLength(36);
    expect(new Set(cat.kpis.map((k) => k.code)).size).toBe(91);
    expect(new Set(cat.kpis.map((k) => compactCode(k.code))).size).toBe(91);
    const h = kpiHierarchy();
    expect(h.map((d) => d.name).sort()).toEqual(['Economy', 'Environment', 'Society and Culture']);
    expect(h.flatMap((d) => d.subDimensions)).toHaveLength(7);
    expect(
      h.flatMap((d) => d.subDimensions.flatMap((s) => s.categories.flatMap((c) => c.codes))),
    ).toHaveLength(91);
  });

  it('compacts codes for URLs and round-trips every one', () => {
    expect(compactCode('EN: EN: AQ: 1C')).toBe('EN-EN-AQ-1C');
    for (const k of cat.kpis) {
      expect(expandCode(compactCode(k.code))).toBe(k.code);
      expect(parseCodeParam(compactCode(k.code))?.code).toBe(k.code);
      expect(parseCodeParam(encodeURIComponent(k.code))?.code).toBe(k.code);
    }
  });

  it.each([
    ['EN-EN-AQ-1C', 'EN: EN: AQ: 1C'],
    ['en-en-aq-1c', 'EN: EN: AQ: 1C'],
    ['EN%3A%20EN%3A%20AQ%3A%201C', 'EN: EN: AQ: 1C'],
    ['EN: EN: AQ: 1C', 'EN: EN: AQ: 1C'],
    ['SC: EH: ED:1C', 'SC: EH: ED: 1C'],
    ['EN-EN-AQ-9C', null],
    ['%E0%A4%A', null],
    ['', null],
  ])('parseCodeParam(%j) → %j', (param, code) => {
    expect(parseCodeParam(param)?.code ?? null).toBe(code);
  });

  it('carries how each KPI is obtained, set deliberately', () => {
    expect(cat.get('EN: EN: AQ: 1C')?.obtained).toBe('sensor');
    expect(cat.get('EC: ICT: WS: 1C')?.obtained).toBe('mixed');
    expect(cat.get('SC: SH: SI: 3C')?.obtained).toBe('manual');
    expect(cat.get('EN: EN: AQ: 1C')?.dataPoints).toEqual(['PM2.5', 'PM10', 'NO2', 'SO2', 'O3']);
    expect(cat.get('EN: EN: AQ: 1C')?.unit).toBe('µg/m³');
    expect(listKpis({ obtained: 'sensor' }).length + listKpis({ obtained: 'mixed' }).length).toBe(27);
    expect(listKpis({ dimension: 'Environment', level: 'core' }).every((k) => k.code.startsWith('EN:'))).toBe(
      true,
    );
  });

  it('refuses a catalogue with a bad entry or a duplicate code, naming the problem', () => {
    const good = cat.kpis[0]!;
    expect(() => new KpiCatalogue({ kpis: [{ ...good, level: 'advanced' }] })).toThrow(
      /level does not match/,
    );
    expect(() => new KpiCatalogue({ kpis: [good, good] })).toThrow(/declared twice/);
    expect(() => new KpiCatalogue({ kpis: [{ ...good, obtained: 'guess' }] })).toThrow(/obtained/);
  });
});
