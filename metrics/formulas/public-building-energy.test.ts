import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { yearPeriod } from '../periods.ts';
import { type FormulaFixture, formulaFixture } from './formula-fixture.ts';
import { publicBuildingEnergy } from './public-building-energy.ts';

describe('EN: E: E: 4A Public Building Energy Consumption', () => {
  let fx: FormulaFixture;
  beforeEach(() => {
    fx = formulaFixture();
  });
  afterEach(() => fx.close());

  it('Σ kWh of public buildings ÷ Σ their floor area; buildings without area or not public left out', async () => {
    const year = yearPeriod(fx.calendar, 2026);
    fx.addDevice('town-hall', 'building-energy-meter', { publicBuilding: true, floorAreaM2: 1000 });
    fx.addDevice('school', 'building-energy-meter', { publicBuilding: true, floorAreaM2: 3000 });
    fx.addDevice('library', 'building-energy-meter', { publicBuilding: true });
    fx.addDevice('shop', 'building-energy-meter', { publicBuilding: false, floorAreaM2: 500 });
    await fx.writeSeries('town-hall', 'energy', year.start, 100, 900, () => 1000); // 100 000 kWh
    await fx.writeSeries('school', 'energy', year.start, 100, 900, () => 2000); // 200 000 kWh
    await fx.writeSeries('library', 'energy', year.start, 100, 900, () => 50_000);
    const v = await publicBuildingEnergy.compute(fx.ctx, year);
    expect(v.unit).toBe('e-kWh per m² per year');
    expect(v.value).toBe(75); // 300 000 kWh ÷ 4000 m²
    expect(v.lineage.registryCounts).toEqual({ publicBuildings: 2, floorAreaM2: 4000 });
    expect(v.lineage.notes).toContain('1 public building(s) without floorAreaM2 left out');
    expect(v.lineage.devices).toEqual(['school', 'town-hall']);
  });
});
