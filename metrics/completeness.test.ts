import { describe, expect, it } from 'vitest';
import {
  expectedReadings,
  isBelowCapture,
  kpiCompleteness,
  seriesCompleteness,
  valueCompleteness,
} from './completeness.ts';

const H = 3_600_000;
const period = { start: 0, end: 24 * H };

describe('completeness', () => {
  it.each([
    ['whole period, 1 h interval', { installedAt: -H, removedAt: null }, 3600, undefined, 24],
    ['installed half way', { installedAt: 12 * H, removedAt: null }, 3600, undefined, 12],
    ['installed after the period', { installedAt: 25 * H, removedAt: null }, 3600, undefined, 0],
    ['running period clipped to now', { installedAt: 0, removedAt: null }, 60, 6 * H, 360],
    ['now after the end changes nothing', { installedAt: 0, removedAt: null }, 900, 48 * H, 96],
    ['partial interval does not count', { installedAt: 0, removedAt: null }, 3600 * 5, undefined, 4],
    // 10 h installed (06:00 to 16:00) at a 15 min interval: 10 × 4 = 40
    [
      'installed and removed inside the period',
      { installedAt: 6 * H, removedAt: 16 * H },
      900,
      undefined,
      40,
    ],
    ['removed before the period', { installedAt: -48 * H, removedAt: -H }, 3600, undefined, 0],
    // removed at 20:00, now 08:00: owed from 00:00 to 08:00 only
    ['removal after now in a running period', { installedAt: 0, removedAt: 20 * H }, 3600, 8 * H, 8],
  ])('%s', (_name, device, intervalSec, now, expected) => {
    expect(expectedReadings(device, intervalSec, period, now)).toBe(expected);
  });

  it('per series: received ÷ expected, capped at 1; nothing expected is no completeness', () => {
    expect(seriesCompleteness({ readings: 18, expected: 24 })).toBe(0.75);
    expect(seriesCompleteness({ readings: 30, expected: 24 })).toBe(1);
    expect(seriesCompleteness({ readings: 0, expected: 0 })).toBeNull();
  });

  it('a value: null when no reading was owed, whatever the formula recorded', () => {
    const dev = (expected: number) => ({ scope: 'device' as const, expected });
    expect(valueCompleteness([dev(0), dev(0)], 1, 'sensor')).toBeNull();
    expect(valueCompleteness([dev(0), { scope: 'city', expected: 0 }], 1, 'mixed')).toBeNull();
    expect(valueCompleteness([], 1, 'sensor')).toBeNull();
    expect(valueCompleteness([], 1, 'mixed')).toBe(1);
    expect(valueCompleteness([dev(24), dev(0)], 0.5, 'sensor')).toBe(0.5);
    // a registry KPI of kinds no device has: no value, nothing to count from, so nothing expected
    expect(valueCompleteness([], 1, 'registry', false)).toBeNull();
    expect(valueCompleteness([], 1, 'registry', true)).toBe(1);
    expect(valueCompleteness([], null, 'mixed')).toBeNull();
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
