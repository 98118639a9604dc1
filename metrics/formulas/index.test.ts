import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KindCatalogue } from '../../devices/kind-catalogue.ts';
import { getKpi, listKpis } from '../catalogue/catalogue.ts';
import { type FormulaFixture, formulaFixture } from './formula-fixture.ts';
import { FORMULAS, formulaFor, formulasForKind } from './index.ts';

describe('the formula set', () => {
  let fx: FormulaFixture;
  beforeEach(() => {
    fx = formulaFixture();
  });
  afterEach(() => fx.close());

  it('one formula per computed KPI: every sensor or mixed KPI of the catalogue, no other', () => {
    expect(FORMULAS).toHaveLength(27);
    expect(new Set(FORMULAS.map((f) => f.code)).size).toBe(27);
    const computed = listKpis()
      .filter((k) => k.obtained !== 'manual')
      .map((k) => k.code)
      .sort();
    expect(FORMULAS.map((f) => f.code).sort()).toEqual(computed);
    const kinds = new KindCatalogue();
    for (const f of FORMULAS)
      for (const k of f.inputKinds) expect(kinds.get(k), `${f.code} ${k}`).toBeDefined();
    expect(formulaFor('EN: EN: AQ: 1C')?.version).toBe('2');
    expect(
      formulasForKind('traffic-counter')
        .map((f) => f.code)
        .sort(),
    ).toEqual(['EC: I: T: 5A', 'EC: ICT: T: 2C']);
  });

  it('with no data at all every formula answers "NR" in the catalogue unit, with lineage', async () => {
    for (const f of FORMULAS) {
      const v = await f.compute(fx.ctx, fx.march);
      expect(v.code).toBe(f.code);
      expect(v.unit, f.code).toBe(getKpi(f.code)?.unit);
      expect(v.value, f.code).toBeNull();
      expect(v.dataQuality).toBe('unknown');
      expect(v.source).toBe(getKpi(f.code)?.obtained);
      expect(v.lineage.formulaVersion).toBe(f.version);
      expect(v.dataPoints.length).toBe(getKpi(f.code)?.dataPoints.length);
    }
  });
});
