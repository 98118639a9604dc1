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

  /** minute of the UTC day and UTC weekday (0 = Sunday) of an instant, by plain Date arithmetic */
  const utc = (ts: number) => {
    const d = new Date(ts);
    return { min: d.getUTCHours() * 60 + d.getUTCMinutes(), weekday: d.getUTCDay() };
  };
  const within = (min: number, ranges: Array<[number, number]>) =>
    ranges.some(([a, b]) => min >= a && min < b);

  it('EC: I: T: 5A Travel Time Index: free-flow ÷ mean speed in the weekday peaks, each at least 1', async () => {
    // Monday 2 March 2026, UTC city: peaks 07:00–09:00 and 16:30–18:30 are 240 one-minute readings.
    const day = monthToDate(fx.calendar, fx.march.start + 2 * DAY);
    fx.addDevice('tc-1', 'traffic-counter', { segmentLengthKm: 1, freeFlowSpeedKmh: 60 });
    fx.addDevice('tc-2', 'traffic-counter', { segmentLengthKm: 1, freeFlowSpeedKmh: 50 });
    fx.addDevice('tc-3', 'traffic-counter', { segmentLengthKm: 1, freeFlowSpeedKmh: 40 });
    const peak: Array<[number, number]> = [
      [7 * 60, 9 * 60],
      [16 * 60 + 30, 18 * 60 + 30],
    ];
    // tc-1 crawls at 20 km/h in the peaks (60 → 3) and flows at 60 elsewhere (the all-day mean would say 1.5)
    await fx.writeSeries('tc-1', 'speed', fx.march.start, 2 * 1440, 60, (i) =>
      i >= 1440 && within(i - 1440, peak) ? 20 : 60,
    );
    await fx.writeSeries('tc-2', 'speed', fx.march.start + DAY, 1440, 60, () => 40); // 1.25
    await fx.writeSeries('tc-3', 'speed', fx.march.start + DAY, 1440, 60, () => 55); // faster than free flow → 1
    const v = await travelTimeIndex.compute(fx.ctx, day);
    expect(v.unit).toBe('ratio');
    expect(v.value).toBeCloseTo((3 + 1.25 + 1) / 3, 12);
    // Sunday 1 March has no peak: its readings are neither used nor owed.
    expect(v.completeness).toBe(1);
    expect(v.lineage.readings).toBe(3 * 240);
    expect(v.lineage.series.map((s) => s.expected)).toEqual([240, 240, 240]);
    expect(v.lineage.registryCounts).toEqual({ segments: 3 });
    expect(v.lineage.notes).toContain('peak periods: 07:00–09:00, 16:30–18:30 on weekdays (Mon–Fri), UTC');
    expect(v.lineage.formulaVersion).toBe('2');
  });

  it('EC: I: T: 5A uses the configured windows; a weekend has no peak ("NR")', async () => {
    fx.settings.ttiPeakWindows = [{ startMin: 12 * 60, endMin: 13 * 60 }];
    fx.addDevice('tc-1', 'traffic-counter', { segmentLengthKm: 1, freeFlowSpeedKmh: 50 });
    // Saturday 7 and Sunday 8 March, then Monday 9
    await fx.writeSeries('tc-1', 'speed', fx.march.start + 6 * DAY, 3 * 1440, 60, (i) =>
      Math.floor(i / 60) % 24 === 12 ? 25 : 50,
    );
    const weekend = await travelTimeIndex.compute(fx.ctx, {
      kind: 'month-to-date',
      label: 'weekend',
      start: fx.march.start + 6 * DAY,
      end: fx.march.start + 8 * DAY,
    });
    expect(weekend.value).toBeNull();
    expect(weekend.lineage.notes).toContain('no weekday peak window in the period');
    const monday = await travelTimeIndex.compute(fx.ctx, monthToDate(fx.calendar, fx.march.start + 9 * DAY));
    expect(monday.value).toBe(2); // 50 ÷ 25, the 60 readings of 12:00–13:00 only
    expect(monday.lineage.readings).toBe(60);
  });

  it('EC: I: T: 5A keeps the peaks at their clock hours across the DST change (Europe/Paris)', async () => {
    const paris = formulaFixture('Europe/Paris');
    try {
      paris.addDevice('tc-1', 'traffic-counter', { segmentLengthKm: 1, freeFlowSpeedKmh: 60 });
      // 1–30 March 2026 local; clocks go forward on Sunday 29 March: the peaks are 06:00–08:00Z and
      // 15:30–17:30Z before, 05:00–07:00Z and 14:30–16:30Z on Monday 30. Slow (20) exactly there.
      const period = monthToDate(paris.calendar, paris.march.start + 30 * DAY - HOUR);
      const dst = Date.UTC(2026, 2, 29, 1); // 02:00 CET → 03:00 CEST
      const winter: Array<[number, number]> = [
        [6 * 60, 8 * 60],
        [15 * 60 + 30, 17 * 60 + 30],
      ];
      const summer: Array<[number, number]> = [
        [5 * 60, 7 * 60],
        [14 * 60 + 30, 16 * 60 + 30],
      ];
      const from = period.start;
      const n = (period.end - from) / 60_000;
      await paris.writeSeries('tc-1', 'speed', from, n, 60, (i) => {
        const ts = from + i * 60_000;
        const { min, weekday } = utc(ts);
        const weekdayPeak = weekday >= 1 && weekday <= 5 && within(min, ts < dst ? winter : summer);
        return weekdayPeak ? 20 : 60;
      });
      const v = await travelTimeIndex.compute(paris.ctx, period);
      expect(v.value).toBe(3);
      // 21 weekdays (2–6, 9–13, 16–20, 23–27, 30 March) × 240 minutes
      expect(v.lineage.readings).toBe(21 * 240);
      expect(v.completeness).toBe(1);
    } finally {
      await paris.close();
    }
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
