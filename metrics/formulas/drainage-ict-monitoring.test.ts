import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { drainageIctMonitoring } from './drainage-ict-monitoring.ts';
import { type FormulaFixture, formulaFixture } from './formula-fixture.ts';

describe('EC: ICT: D: 1A Drainage / Storm Water System ICT Monitoring', () => {
  let fx: FormulaFixture;
  beforeEach(() => {
    fx = formulaFixture();
  });
  afterEach(() => fx.close());

  it('km of reaches with a level or flow sensor over the network km, each reach once', async () => {
    fx.addDevice('dr-1', 'drainage-sensor', { segmentLengthKm: 1.2, reachId: 'R1' }); // level
    fx.addDevice('dr-2', 'drainage-sensor', { segmentLengthKm: 1.2, reachId: 'R1' }); // flow, same reach
    fx.addDevice('dr-3', 'drainage-sensor', { segmentLengthKm: 0.8 });
    fx.addDevice('dr-4', 'drainage-sensor', { segmentLengthKm: 2.5, reachId: 'R7' }, { status: 'disabled' });
    fx.addDevice('dr-5', 'drainage-sensor', { segmentLengthKm: 3 }, { createdAt: fx.march.end });
    fx.setManual('drainageNetworkKm', 40, 'km');
    const v = await drainageIctMonitoring.compute(fx.ctx, fx.march);
    // R1 1.2 km once + 0.8 km = 2 km of 40 km; disabled and not-yet-installed sensors do not count
    expect(v.unit).toBe('%');
    expect(v.value).toBeCloseTo((2 / 40) * 100, 12);
    expect(v.source).toBe('mixed');
    expect(v.completeness).toBe(1);
    expect(v.lineage.registryCounts).toEqual({ drainageSensors: 3, monitoredReaches: 2, monitoredKm: 2 });
    expect(v.lineage.manualInputs).toEqual([
      { name: 'drainageNetworkKm', value: 40, unit: 'km', source: 'test analyst' },
    ]);
  });

  it('notes disagreeing reach lengths and caps overlapping reaches at 100 %', async () => {
    fx.addDevice('dr-1', 'drainage-sensor', { segmentLengthKm: 3, reachId: 'R1' });
    fx.addDevice('dr-2', 'drainage-sensor', { segmentLengthKm: 4, reachId: 'R1' });
    fx.addDevice('dr-3', 'drainage-sensor', { segmentLengthKm: 2 });
    fx.setManual('drainageNetworkKm', 5, 'km');
    const v = await drainageIctMonitoring.compute(fx.ctx, fx.march);
    // 4 + 2 = 6 km of 5 km: 120 %, capped
    expect(v.value).toBe(100);
    expect(v.lineage.registryCounts?.monitoredKm).toBe(6);
    expect(v.lineage.notes).toContain('reach R1: sensors register 3 km and 4 km: the longer counted');
    expect(v.lineage.notes).toContain('monitored km exceed the drainage network (120.0 %): capped');
  });

  it('without the network length the value is not reported', async () => {
    fx.addDevice('dr-1', 'drainage-sensor', { segmentLengthKm: 1 });
    const v = await drainageIctMonitoring.compute(fx.ctx, fx.march);
    expect(v.value).toBeNull();
    expect(v.lineage.notes).toContain('manual input drainageNetworkKm (km) not entered');
  });
});
