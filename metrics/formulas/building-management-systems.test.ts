import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildingManagementSystems } from './building-management-systems.ts';
import { type FormulaFixture, formulaFixture } from './formula-fixture.ts';

describe('EC: I: B: 2A Integrated Building Management Systems in Public Buildings', () => {
  let fx: FormulaFixture;
  beforeEach(() => {
    fx = formulaFixture();
    fx.addDevice('town-hall', 'building-energy-meter', {
      publicBuilding: true,
      floorAreaM2: 1000,
      bms: true,
    });
    fx.addDevice('school', 'building-energy-meter', { publicBuilding: true, floorAreaM2: 3000, bms: false });
    fx.addDevice('office', 'building-energy-meter', { publicBuilding: false, floorAreaM2: 9000, bms: true });
  });
  afterEach(() => fx.close());

  it('BMS floor area ÷ the public floor area entered by the analyst', async () => {
    fx.setManual('publicBuildingFloorAreaM2', 8000, 'm²', 'accurate-measurement');
    const v = await buildingManagementSystems.compute(fx.ctx, fx.march);
    expect(v.unit).toBe('%');
    expect(v.value).toBe(12.5);
    expect(v.completeness).toBe(1);
    expect(v.provisional).toBe(false);
    expect(v.source).toBe('mixed');
    expect(v.dataQuality).toBe('accurate-measurement');
    expect(v.lineage.manualInputs).toEqual([
      expect.objectContaining({ name: 'publicBuildingFloorAreaM2', value: 8000 }),
    ]);
  });

  it('without the manual total, the registered public buildings stand in (an estimation)', async () => {
    const v = await buildingManagementSystems.compute(fx.ctx, fx.march);
    expect(v.value).toBe(25);
    expect(v.dataQuality).toBe('estimation-with-assumptions');
    expect(v.lineage.registryCounts).toEqual({ bmsFloorAreaM2: 1000, registeredPublicFloorAreaM2: 4000 });
  });
});
