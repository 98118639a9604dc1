import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Period } from '../kpi-types.ts';
import { monthToDate } from '../periods.ts';
import { emfExposure } from './emf-exposure.ts';
import { DAY, type FormulaFixture, formulaFixture, HOUR } from './formula-fixture.ts';
import { energyBounds, noiseExposure } from './noise-exposure.ts';

describe('EN: EN: EQ: 2A Noise Exposure and EN: EN: EQ: 1C EMF Exposure', () => {
  let fx: FormulaFixture;
  beforeEach(() => {
    fx = formulaFixture();
  });
  afterEach(() => fx.close());

  // A period of one hour in the fixture's zone (UTC), for the known case of an hour's LAeq.
  const hourPeriod = (start: number): Period => ({
    kind: 'month-to-date',
    label: 'one hour',
    start,
    end: start + HOUR,
  });

  it('LAeq of an hour is energetic: 63 dB(A) every fifth minute, 50 otherwise, is 56.8, not 52.6', async () => {
    const hour = hourPeriod(fx.march.start + 10 * HOUR);
    fx.setPopulation(10_000);
    fx.addDevice('n-1', 'noise-monitor', { residentsExposed: 2000 });
    await fx.writeSeries('n-1', 'laeq', hour.start, 60, 60, (m) => (m % 5 === 0 ? 63 : 50));
    // By hand: 12 minutes at 63, 48 at 50.
    const laeq = 10 * Math.log10((12 * 10 ** 6.3 + 48 * 10 ** 5) / 60);
    expect(laeq).toBeCloseTo(56.8, 2);
    expect((12 * 63 + 48 * 50) / 60).toBeCloseTo(52.6, 9); // the arithmetic mean, below the threshold
    const v = await noiseExposure.compute(fx.ctx, hour);
    // One hour has no evening or night: LAeq stands in for Lden, and it exceeds 55.
    expect(v.lineage.registryCounts).toMatchObject({
      monitors: 1,
      monitorsAboveThreshold: 1,
      residentsExposed: 2000,
    });
    expect(v.value).toBeCloseTo((2000 / 10_000) * 100, 12);
    expect(v.lineage.registryCounts?.monitoredResidentsExposedPercent).toBe(100);
    expect(v.dataQuality).toBe('estimation-with-assumptions');
    fx.settings.noiseThresholdDb = 56.79; // just under the true level: still exposed
    expect((await noiseExposure.compute(fx.ctx, hour)).value).toBeCloseTo(20, 12);
    fx.settings.noiseThresholdDb = 56.81; // just over it
    expect((await noiseExposure.compute(fx.ctx, hour)).value).toBe(0);
  });

  it('Lden in the city zone: evening +5 dB, night +10 dB (Directive 2002/49/EC Annex I)', async () => {
    const paris = formulaFixture('Europe/Paris');
    try {
      // 2 March 2026 in Paris (no DST change): reading i at local minute i, local hour floor(i / 60).
      const day = monthToDate(paris.calendar, paris.march.start + DAY);
      paris.setPopulation(50_000);
      paris.addDevice('n-1', 'noise-monitor', { residentsExposed: 5000 });
      paris.addDevice('n-2', 'noise-monitor', { residentsExposed: 5000 });
      const byHour = (h: number) => (h >= 7 && h < 19 ? 60 : h >= 19 && h < 23 ? 55 : 50);
      await paris.writeSeries('n-1', 'laeq', day.start, 1440, 60, (i) => byHour(Math.floor(i / 60)));
      await paris.writeSeries('n-2', 'laeq', day.start, 1440, 60, () => 57);
      // n-1 by hand: Lday 60, Levening 55 + 5, Lnight 50 + 10 → Lden = 60; its LAeq over the day is 57.68.
      const n1Lden = 10 * Math.log10((12 * 10 ** 6 + 4 * 10 ** 6 + 8 * 10 ** 6) / 24);
      const n1Laeq = 10 * Math.log10((12 * 10 ** 6 + 4 * 10 ** 5.5 + 8 * 10 ** 5) / 24);
      expect([n1Lden, n1Laeq]).toEqual([60, expect.closeTo(57.68, 2)]);
      // n-2 steady at 57: Lden = 10·log10((12 + 4·10^0.5 + 8·10) / 24) + 57 = 63.4.
      const n2Lden = 57 + 10 * Math.log10((12 + 4 * 10 ** 0.5 + 8 * 10) / 24);
      expect(n2Lden).toBeCloseTo(63.4, 1);
      paris.settings.noiseThresholdDb = 59; // n-1 exposed by Lden though its LAeq is under 59
      let v = await noiseExposure.compute(paris.ctx, day);
      expect(v.value).toBeCloseTo((10_000 / 50_000) * 100, 12);
      expect(v.dataQuality).toBe('accurate-measurement');
      paris.settings.noiseThresholdDb = 61; // n-1 (60) not, n-2 (63.4) exposed
      v = await noiseExposure.compute(paris.ctx, day);
      expect(v.value).toBeCloseTo((5000 / 50_000) * 100, 12);
      expect(v.lineage.registryCounts?.monitoredResidentsExposedPercent).toBeCloseTo(50, 12);
      paris.settings.noiseThresholdDb = 63.5;
      expect((await noiseExposure.compute(paris.ctx, day)).value).toBe(0);
    } finally {
      await paris.close();
    }
  });

  it('Lden needs half the hours of each period covered; residents missing on an exposed monitor is NR', async () => {
    const day = monthToDate(fx.calendar, fx.march.start + DAY);
    fx.setPopulation(100_000);
    fx.addDevice('n-1', 'noise-monitor', { residentsExposed: 1000 });
    fx.addDevice('n-2', 'noise-monitor');
    // n-1: 00:00–10:59 only (11 h): the night has 7 of its 8 hours, the evening none → LAeq (70) instead.
    await fx.writeSeries('n-1', 'laeq', day.start, 660, 60, () => 70);
    // n-2: a quiet full day, without residents.
    await fx.writeSeries('n-2', 'laeq', day.start, 1440, 60, () => 40);
    const v = await noiseExposure.compute(fx.ctx, day);
    expect(v.value).toBeCloseTo((1000 / 100_000) * 100, 12);
    expect(v.dataQuality).toBe('estimation-with-assumptions');
    expect(v.lineage.notes?.some((n) => n.startsWith('1 monitor(s) compared by LAeq'))).toBe(true);
    // Equal weights in the monitored share: one of two monitors.
    expect(v.lineage.registryCounts?.monitoredResidentsExposedPercent).toBe(50);
    expect(v.lineage.notes).toContain(
      'residentsExposed missing on some monitors: monitors weigh equally in the monitored share',
    );
    // n-2 loud and without residents: the population share cannot be counted.
    await fx.writeSeries('n-2', 'laeq', day.start, 1440, 60, () => 80);
    const loud = await noiseExposure.compute(fx.ctx, day);
    expect(loud.value).toBeNull();
    expect(loud.lineage.registryCounts?.monitoredResidentsExposedPercent).toBe(100);
  });

  it('energy bounds of an hour known only by its levels: the mean level at least, min and max at most', () => {
    // 12 minutes at 63 dB, 48 at 50: mean 52.6 dB; the true energy is that of 56.8 dB.
    const hour = { count: 60, sum: 12 * 63 + 48 * 50, min: 50, max: 63 };
    const { low, high } = energyBounds(hour);
    expect(10 * Math.log10(low)).toBeCloseTo(52.6, 9);
    // By hand: 20 % of the readings at 63 and 80 % at 50 keep the mean; this hour is that very case.
    expect(high).toBeCloseTo(0.2 * 10 ** 6.3 + 0.8 * 10 ** 5, 3);
    expect(10 * Math.log10(high)).toBeCloseTo(10 * Math.log10((12 * 10 ** 6.3 + 48 * 10 ** 5) / 60), 9);
    // A steady hour is exact.
    expect(energyBounds({ count: 60, sum: 60 * 57, min: 57, max: 57 })).toEqual({
      low: 10 ** 5.7,
      high: 10 ** 5.7,
    });
  });

  it('readings stored before the energy series was kept: decided by bounds, left out where they straddle', async () => {
    const hour = hourPeriod(fx.march.start + 10 * HOUR);
    fx.setPopulation(10_000);
    fx.addDevice('loud', 'noise-monitor', { residentsExposed: 1000 });
    fx.addDevice('quiet', 'noise-monitor', { residentsExposed: 3000 });
    fx.addDevice('mixed', 'noise-monitor', { residentsExposed: 500 });
    // Written to the store itself, without the companion series: as a release before it stored them.
    const storedBefore = (id: string, level: (minute: number) => number) =>
      fx.store.write(
        Array.from({ length: 60 }, (_, i) => ({
          deviceId: id,
          kind: 'noise-monitor',
          district: 'centre',
          metric: 'laeq',
          ts: hour.start + i * 60_000,
          value: level(i),
        })),
      );
    await storedBefore('loud', (i) => (i % 2 === 0 ? 70 : 68)); // both bounds above 55
    await storedBefore('quiet', (i) => (i % 2 === 0 ? 40 : 45)); // both bounds below 55
    await storedBefore('mixed', (i) => (i % 5 === 0 ? 63 : 50)); // 52.6 to 56.8 dB: either side of 55
    const v = await noiseExposure.compute(fx.ctx, hour);
    expect(v.lineage.registryCounts).toMatchObject({ monitors: 2, monitorsAboveThreshold: 1 });
    expect(v.value).toBeCloseTo((1000 / 10_000) * 100, 12);
    expect(v.dataQuality).toBe('estimation-with-assumptions');
    expect(v.lineage.notes).toContain(
      '1 monitor(s) left out, their bounds straddling the threshold: mixed (52.6–56.8 dB)',
    );
    expect(v.lineage.notes?.some((n) => n.startsWith('3 monitor(s) with readings stored before'))).toBe(true);
    // Above the upper bound of every monitor, nothing is undetermined: nobody is exposed.
    fx.settings.noiseThresholdDb = 71;
    const calm = await noiseExposure.compute(fx.ctx, hour);
    expect(calm.value).toBe(0);
    expect(calm.lineage.registryCounts).toMatchObject({ monitors: 3, monitorsAboveThreshold: 0 });
  });

  it('an hour whose energy series holds every reading is exact; the hours before it are bounded', async () => {
    const hours: Period = {
      kind: 'month-to-date',
      label: 'two hours',
      start: fx.march.start,
      end: fx.march.start + 2 * HOUR,
    };
    fx.setPopulation(10_000);
    fx.addDevice('n-1', 'noise-monitor', { residentsExposed: 2000 });
    // First hour before the companion (steady 50: its bounds meet), second hour with it (63 / 50 mix).
    await fx.store.write(
      Array.from({ length: 60 }, (_, i) => ({
        deviceId: 'n-1',
        kind: 'noise-monitor',
        district: 'centre',
        metric: 'laeq',
        ts: hours.start + i * 60_000,
        value: 50,
      })),
    );
    await fx.writeSeries('n-1', 'laeq', hours.start + HOUR, 60, 60, (m) => (m % 5 === 0 ? 63 : 50));
    // By hand: 60 readings at 50, 12 at 63 and 48 at 50 over the two hours.
    const laeq = 10 * Math.log10((108 * 10 ** 5 + 12 * 10 ** 6.3) / 120);
    fx.settings.noiseThresholdDb = laeq - 0.01;
    expect((await noiseExposure.compute(fx.ctx, hours)).value).toBeCloseTo(20, 12);
    fx.settings.noiseThresholdDb = laeq + 0.01;
    expect((await noiseExposure.compute(fx.ctx, hours)).value).toBe(0);
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
