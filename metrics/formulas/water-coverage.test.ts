import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { monthPeriod } from '../periods.ts';
import { type FormulaFixture, formulaFixture } from './formula-fixture.ts';
import { smartWaterMeters } from './smart-water-meters.ts';
import { waterSupplyIctMonitoring } from './water-supply-ict-monitoring.ts';

describe('water coverage KPIs (registry + manual)', () => {
  let fx: FormulaFixture;
  beforeEach(() => {
    fx = formulaFixture();
  });
  afterEach(() => fx.close());

  it('EC: ICT: WS: 1C Smart Water Meters: registered meters ÷ waterMetersTotal; disabled and later ones left out', async () => {
    fx.addDevice('wm-1', 'water-smart-meter');
    fx.addDevice('wm-2', 'water-smart-meter');
    fx.addDevice('wm-3', 'water-smart-meter', {}, { status: 'disabled' });
    fx.addDevice('wm-4', 'water-smart-meter', {}, { createdAt: fx.march.end });
    let v = await smartWaterMeters.compute(fx.ctx, fx.march);
    expect(v.value).toBeNull();
    expect(v.lineage.notes).toContain('manual input waterMetersTotal (meters) not entered');
    fx.setManual('waterMetersTotal', 8, 'meters', 'accurate-measurement');
    v = await smartWaterMeters.compute(fx.ctx, fx.march);
    expect(v.unit).toBe('%');
    expect(v.value).toBe(25);
    expect(v.completeness).toBe(1);
    expect(v.source).toBe('mixed');
    expect(v.dataQuality).toBe('accurate-measurement');
    expect(v.lineage.registryCounts).toEqual({ smartWaterMeters: 2 });
  });

  it('a meter disabled in March counts in February and not in April; one re-enabled counts throughout', async () => {
    const month = (m: string) => monthPeriod(fx.calendar, m);
    const disabledAt = Date.parse('2026-03-10T09:00:00Z');
    fx.addDevice('wm-1', 'water-smart-meter');
    fx.addDevice('wm-2', 'water-smart-meter', {}, { status: 'disabled', disabledAt });
    fx.addDevice('wm-3', 'water-smart-meter', {}, { status: 'active', disabledAt: null });
    fx.setManual('waterMetersTotal', 4, 'meters', 'accurate-measurement');
    const counted = async (m: string) =>
      (await smartWaterMeters.compute(fx.ctx, month(m))).lineage.registryCounts?.smartWaterMeters;
    expect(await counted('2026-02')).toBe(3); // before it was disabled: as it was then
    expect(await counted('2026-03')).toBe(3); // disabled during March: installed for part of it
    expect(await counted('2026-04')).toBe(2);
  });

  it('EC: ICT: WS: 2A Water Supply ICT Monitoring: zones with an inflow meter ÷ waterSupplyZonesTotal', async () => {
    fx.addDevice('in-1', 'water-inflow-meter', {}, { district: 'north' });
    fx.addDevice('in-2', 'water-inflow-meter', {}, { district: 'north' });
    fx.addDevice('in-3', 'water-inflow-meter', {}, { district: 'south' });
    fx.setManual('waterSupplyZonesTotal', 5, 'zones');
    const v = await waterSupplyIctMonitoring.compute(fx.ctx, fx.march);
    expect(v.value).toBe(40);
    expect(v.lineage.registryCounts).toEqual({ inflowMeters: 3, monitoredZones: 2 });
    expect(v.dataQuality).toBe('unknown'); // the manual input came without a class
  });
});
