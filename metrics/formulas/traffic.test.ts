import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { monthToDate } from '../periods.ts';
import { DAY, type FormulaFixture, formulaFixture, HOUR } from './formula-fixture.ts';
import { intersectionControl } from './intersection-control.ts';
import { trafficMonitoring } from './traffic-monitoring.ts';
import { travelTimeIndex } from './travel-time-index.ts';

describe('traffic KPIs', () => {
  let fx: FormulaFixture;
  beforeEach(() => {
    fx = formulaFixture();
  });
  afterEach(() => fx.close());

  it('EC: ICT: T: 2C Traffic Monitoring: Σ km of counters on major streets ÷ majorStreetKm', async () => {
    fx.addDevice('tc-1', 'traffic-counter', {
      segmentLengthKm: 2.5,
      freeFlowSpeedKmh: 50,
      majorStreet: true,
    });
    fx.addDevice('tc-2', 'traffic-counter', {
      segmentLengthKm: 1.5,
      freeFlowSpeedKmh: 50,
      majorStreet: true,
    });
    fx.addDevice('tc-3', 'traffic-counter', { segmentLengthKm: 9, freeFlowSpeedKmh: 30, majorStreet: false });
    fx.setManual('majorStreetKm', 40, 'km');
    const v = await trafficMonitoring.compute(fx.ctx, fx.march);
    expect(v.unit).toBe('%');
    expect(v.value).toBe(10);
    expect(v.lineage.registryCounts).toEqual({ majorStreetCounters: 2, monitoredKm: 4 });
  });

  it('EC: I: T: 5A Travel Time Index: mean of free-flow ÷ mean speed, each at least 1', async () => {
    const day = monthToDate(fx.calendar, fx.march.start + DAY);
    fx.addDevice('tc-1', 'traffic-counter', { segmentLengthKm: 1, freeFlowSpeedKmh: 60 });
    fx.addDevice('tc-2', 'traffic-counter', { segmentLengthKm: 1, freeFlowSpeedKmh: 50 });
    fx.addDevice('tc-3', 'traffic-counter', { segmentLengthKm: 1, freeFlowSpeedKmh: 40 });
    await fx.writeSeries('tc-1', 'speed', day.start, 1440, 60, (i) => (i < 720 ? 20 : 40)); // mean 30 → 2
    await fx.writeSeries('tc-2', 'speed', day.start, 1440, 60, () => 40); // 1.25
    await fx.writeSeries('tc-3', 'speed', day.start, 1440, 60, () => 55); // faster than free flow → 1
    const v = await travelTimeIndex.compute(fx.ctx, day);
    expect(v.unit).toBe('ratio');
    expect(v.value).toBeCloseTo((2 + 1.25 + 1) / 3, 12);
    expect(v.completeness).toBe(1);
    expect(v.lineage.registryCounts).toEqual({ segments: 3 });
  });

  it('EC: ICT: T: 3A Intersection Control: the last adaptive reading of the period decides', async () => {
    const day = monthToDate(fx.calendar, fx.march.start + DAY);
    fx.addDevice('sc-1', 'traffic-signal-controller', { intersectionId: 'X1' });
    fx.addDevice('sc-2', 'traffic-signal-controller', { intersectionId: 'X2' });
    fx.addDevice('sc-3', 'traffic-signal-controller', { intersectionId: 'X3' });
    await fx.writeSeries('sc-1', 'adaptive', day.start, 288, 300, () => 1);
    await fx.writeSeries('sc-2', 'adaptive', day.start, 288, 300, (i) => (i < 287 ? 1 : 0)); // switched off last
    await fx.writeSeries('sc-3', 'adaptive', day.start, 144, 300, (i) => (i < 100 ? 0 : 1));
    fx.setManual('intersectionsTotal', 4, 'intersections');
    const v = await intersectionControl.compute(fx.ctx, day);
    expect(v.value).toBe(50);
    expect(v.completeness).toBeCloseTo((288 + 288 + 144) / 864, 12);
    expect(v.provisional).toBe(true);
    expect(v.lineage.registryCounts).toEqual({ controllers: 3, adaptiveIntersections: 2 });
    expect(v.lineage.timeRange).toEqual({
      from: new Date(day.start).toISOString(),
      to: new Date(day.start + 24 * HOUR - 300_000).toISOString(),
    });
  });
});
