import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { monthPeriod } from '../periods.ts';
import { type FormulaFixture, formulaFixture } from './formula-fixture.ts';
import { solidWasteTreatment } from './solid-waste-treatment.ts';

describe('EN: EN: WA: 1C Solid Waste Treatment', () => {
  let fx: FormulaFixture;
  beforeEach(() => {
    fx = formulaFixture('Europe/Paris');
  });
  afterEach(() => fx.close());

  const share = (v: { dataPoints: Array<{ name: string; value: number | null }> }, name: string) =>
    v.dataPoints.find((p) => p.name === name)?.value;

  it('tonnage by disposal method over the tonnage of all methods, the shares summing to 100 %', async () => {
    // A Paris March has 31 days of 24 h less the DST hour: 743 hourly readings owed per weighbridge.
    fx.addDevice('wb-lf1', 'weighbridge', { disposalMethod: 'landfill' });
    fx.addDevice('wb-lf2', 'weighbridge', { disposalMethod: 'Landfill ' });
    fx.addDevice('wb-rec', 'weighbridge', { disposalMethod: 'recycling' });
    fx.addDevice('wb-inc', 'weighbridge', { disposalMethod: 'incineration' });
    await fx.writeSeries('wb-lf1', 'tonnage', fx.march.start, 743, 3600, () => 2); // 1486 t
    await fx.writeSeries('wb-lf2', 'tonnage', fx.march.start, 743, 3600, () => 0.5); // 371.5 t
    await fx.writeSeries('wb-rec', 'tonnage', fx.march.start, 743, 3600, () => 1.5); // 1114.5 t
    await fx.writeSeries('wb-inc', 'tonnage', fx.march.start, 743, 3600, () => 1); // 743 t
    const v = await solidWasteTreatment.compute(fx.ctx, fx.march);
    // total 1486 + 371.5 + 1114.5 + 743 = 3715 t
    expect(v.unit).toBe('%');
    expect(v.dataPoints.map((p) => p.name)).toEqual([
      'Landfill',
      'Burnt (open)',
      'Incinerated',
      'Open dump',
      'Recycled',
      'Other',
    ]);
    expect(share(v, 'Landfill')).toBeCloseTo((1857.5 / 3715) * 100, 9); // 50 %
    expect(share(v, 'Recycled')).toBeCloseTo((1114.5 / 3715) * 100, 9); // 30 %
    expect(share(v, 'Incinerated')).toBeCloseTo((743 / 3715) * 100, 9); // 20 %
    expect(share(v, 'Burnt (open)')).toBe(0);
    expect(share(v, 'Open dump')).toBe(0);
    expect(share(v, 'Other')).toBe(0);
    expect(v.dataPoints.reduce((s, p) => s + (p.value ?? 0), 0)).toBeCloseTo(100, 9);
    expect(v.value).toBeCloseTo(30, 9);
    expect(v.completeness).toBe(1);
    expect(v.provisional).toBe(false);
    expect(v.dataQuality).toBe('accurate-measurement');
    expect(v.lineage.registryCounts).toMatchObject({ weighbridges: 4, tonnesWeighed: 3715 });
    expect(v.lineage.devices.sort()).toEqual(['wb-inc', 'wb-lf1', 'wb-lf2', 'wb-rec']);
  });

  it('leaves out a weighbridge of no known method, and a partial month is provisional', async () => {
    fx.addDevice('wb-a', 'weighbridge', { disposalMethod: 'open-dump' });
    fx.addDevice('wb-b', 'weighbridge', { disposalMethod: 'other' });
    fx.addDevice('wb-x', 'weighbridge', { disposalMethod: 'pyrolysis' });
    const april = monthPeriod(fx.calendar, '2026-04');
    // April in Paris has no DST change: 720 hours. wb-a 720 × 1 t; wb-b 360 × 3 t (half the month).
    await fx.writeSeries('wb-a', 'tonnage', april.start, 720, 3600, () => 1);
    await fx.writeSeries('wb-b', 'tonnage', april.start, 360, 3600, () => 3);
    await fx.writeSeries('wb-x', 'tonnage', april.start, 720, 3600, () => 50);
    const v = await solidWasteTreatment.compute(fx.ctx, april);
    // 720 t + 1080 t = 1800 t; pyrolysis's 36 000 t are not in the total
    expect(share(v, 'Open dump')).toBeCloseTo((720 / 1800) * 100, 9);
    expect(share(v, 'Other')).toBeCloseTo((1080 / 1800) * 100, 9);
    expect(v.value).toBe(0);
    expect(v.completeness).toBeCloseTo((720 + 360) / (720 + 720), 12);
    expect(v.provisional).toBe(true);
    expect(v.lineage.notes?.some((n) => n.startsWith('weighbridge wb-x: disposalMethod pyrolysis'))).toBe(
      true,
    );
    expect(v.lineage.devices).not.toContain('wb-x');
  });

  it('no waste weighed: the shares are not defined (NR)', async () => {
    fx.addDevice('wb-a', 'weighbridge', { disposalMethod: 'landfill' });
    await fx.writeSeries('wb-a', 'tonnage', fx.march.start, 743, 3600, () => 0);
    const v = await solidWasteTreatment.compute(fx.ctx, fx.march);
    expect(v.value).toBeNull();
    expect(v.dataPoints.every((p) => p.value === null)).toBe(true);
    expect(v.lineage.notes).toContain('weighbridges reported no waste in the period: shares not defined');
  });
});
