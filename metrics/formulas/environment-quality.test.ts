import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { monthToDate } from '../periods.ts';
import { emfExposure } from './emf-exposure.ts';
import { DAY, type FormulaFixture, formulaFixture } from './formula-fixture.ts';
import { energeticMean, noiseExposure } from './noise-exposure.ts';

describe('EN: EN: EQ: 2A Noise Exposure and EN: EN: EQ: 1C EMF Exposure', () => {
  let fx: FormulaFixture;
  beforeEach(() => {
    fx = formulaFixture();
  });
  afterEach(() => fx.close());

  it('energetic mean of decibels: 50 and 60 dB average to 57.4 dB, not 55', () => {
    const b = (mean: number) => ({
      t: 0,
      count: 1,
      sum: mean,
      min: mean,
      max: mean,
      mean,
      firstTs: 0,
      first: mean,
      lastTs: 0,
      last: mean,
    });
    expect(energeticMean([b(50), b(60)])).toBeCloseTo(10 * Math.log10((1e5 + 1e6) / 2), 12);
    expect(energeticMean([b(50), b(60)])).toBeCloseTo(57.4036, 3);
    expect(energeticMean([])).toBeNull();
  });

  it('share of residents at monitors above the threshold, by energetic mean', async () => {
    const day = monthToDate(fx.calendar, fx.march.start + DAY);
    fx.addDevice('n-1', 'noise-monitor', { residentsExposed: 1000 });
    fx.addDevice('n-2', 'noise-monitor', { residentsExposed: 3000 });
    fx.addDevice('n-3', 'noise-monitor', { residentsExposed: 6000 });
    // n-1: 12 h at 40, 12 h at 62 → arithmetic 51 but energetic ≈ 59: exposed
    await fx.writeSeries('n-1', 'laeq', day.start, 1440, 60, (i) => (i < 720 ? 40 : 62));
    await fx.writeSeries('n-2', 'laeq', day.start, 1440, 60, () => 58); // exposed
    await fx.writeSeries('n-3', 'laeq', day.start, 1440, 60, () => 50); // quiet
    const v = await noiseExposure.compute(fx.ctx, day);
    expect(v.unit).toBe('%');
    expect(v.value).toBeCloseTo(40, 12);
    expect(v.lineage.registryCounts).toEqual({ monitors: 3, monitorsAboveThreshold: 2 });
    fx.settings.noiseThresholdDb = 59; // n-1 at 59.02 dB stays exposed, n-2 not
    expect((await noiseExposure.compute(fx.ctx, day)).value).toBeCloseTo(10, 12);
  });

  it('equal weights when a monitor has no residents attribute', async () => {
    const day = monthToDate(fx.calendar, fx.march.start + DAY);
    fx.addDevice('n-1', 'noise-monitor', { residentsExposed: 1000 });
    fx.addDevice('n-2', 'noise-monitor');
    await fx.writeSeries('n-1', 'laeq', day.start, 1440, 60, () => 70);
    await fx.writeSeries('n-2', 'laeq', day.start, 720, 60, () => 45);
    const v = await noiseExposure.compute(fx.ctx, day);
    expect(v.value).toBe(50);
    expect(v.completeness).toBeCloseTo(0.75, 12);
    expect(v.lineage.notes).toContain('residentsExposed missing on some monitors: monitors weigh equally');
  });

  it('EMF: probes whose highest interval mean stays within the limit', async () => {
    const day = monthToDate(fx.calendar, fx.march.start + DAY);
    fx.addDevice('e-1', 'emf-probe');
    fx.addDevice('e-2', 'emf-probe');
    fx.addDevice('e-3', 'emf-probe');
    fx.addDevice('e-4', 'emf-probe'); // silent: not measured
    await fx.writeSeries('e-1', 'efield', day.start, 144, 600, () => 1.2);
    await fx.writeSeries('e-2', 'efield', day.start, 144, 600, (i) => (i === 70 ? 30 : 2)); // one peak over 28
    await fx.writeSeries('e-3', 'efield', day.start, 144, 600, () => 27.9);
    const v = await emfExposure.compute(fx.ctx, day);
    expect(v.unit).toBe('%');
    expect(v.value).toBeCloseTo((2 / 3) * 100, 12);
    expect(v.completeness).toBe(0.75);
    expect(v.dataQuality).toBe('estimation-with-assumptions');
    fx.settings.emfLimitVm = 6; // a stricter national limit
    expect((await emfExposure.compute(fx.ctx, day)).value).toBeCloseTo(100 / 3, 12);
  });
});
