import { describe, expect, it } from 'vitest';
import { expectedReadings, isBelowCapture, kpiCompleteness, seriesCompleteness } from './completeness.ts';

const H = 3_600_000;
const period = { start: 0, end: 24 * H };

describe('completeness', () => {
  it.each([
    ['whole period, 1 h interval', { createdAt: -H }, 3600, undefined, 24],
    ['created half way', { createdAt: 12 * H }, 3600, undefined, 12],
    ['created after the period', { createdAt: 25 * H }, 3600, undefined, 0],
    ['running period clipped to now', { createdAt: 0 }, 60, 6 * H, 360],
    ['now after the end changes nothing', { createdAt: 0 }, 900, 48 * H, 96],
    ['partial interval does not count', { createdAt: 0 }, 3600 * 5, undefined, 4],
  ])('%s', (_name, device, intervalSec, now, expected) => {
    expect(expectedReadings(device, intervalSec, period, now)).toBe(expected);
  });

  it('per series: received ÷ expected, capped at 1; nothing expected is complete', () => {
    expect(seriesCompleteness({ readings: 18, expected: 24 })).toBe(0.75);
    expect(seriesCompleteness({ readings: 30, expected: 24 })).toBe(1);
    expect(seriesCompleteness({ readings: 0, expected: 0 })).toBe(1);
  });

  it('per KPI: an over-reporting device cannot hide a silent one', () => {
    expect(
      kpiCompleteness([
        { readings: 48, expected: 24 },
        { readings: 0, expected: 24 },
      ]),
    ).toBe(0.5);
    expect(
      kpiCompleteness([
        { readings: 20, expected: 24 },
        { readings: 24, expected: 24 },
      ]),
    ).toBeCloseTo(44 / 48, 12);
    expect(kpiCompleteness([])).toBe(1);
  });

  it('below the capture threshold', () => {
    expect(isBelowCapture(0.89, 0.9)).toBe(true);
    expect(isBelowCapture(0.9, 0.9)).toBe(false);
  });
});
