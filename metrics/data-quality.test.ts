import { describe, expect, it } from 'vitest';
import { deriveDataQuality, sensorQuality, worstQuality } from './data-quality.ts';

describe('data-quality class from provenance', () => {
  it('sensors at or above the capture threshold are accurate measurements; below, estimations', () => {
    expect(sensorQuality(0.95, 0.9)).toBe('accurate-measurement');
    expect(sensorQuality(0.9, 0.9)).toBe('accurate-measurement');
    expect(sensorQuality(0.5, 0.9)).toBe('estimation-with-assumptions');
    expect(sensorQuality(0, 0.9)).toBe('unknown');
  });

  it.each([
    [
      'sensor + registry',
      [{ source: 'sensor', completeness: 1 }, { source: 'registry' }],
      'accurate-measurement',
    ],
    [
      'sensor + census population',
      [{ source: 'sensor', completeness: 0.99 }, { source: 'profile' }],
      'accurate-measurement',
    ],
    [
      'sensor below threshold',
      [{ source: 'sensor', completeness: 0.8 }, { source: 'registry' }],
      'estimation-with-assumptions',
    ],
    ['manual input without class', [{ source: 'registry' }, { source: 'manual' }], 'unknown'],
    [
      'manual survey wins over good sensors',
      [
        { source: 'sensor', completeness: 1 },
        { source: 'manual', dataQuality: 'extrapolated-survey' },
      ],
      'extrapolated-survey',
    ],
    ['no input', [], 'unknown'],
  ] as const)('%s', (_name, inputs, expected) => {
    expect(deriveDataQuality(inputs, 0.9)).toBe(expected);
  });

  it('the worst class wins', () => {
    expect(worstQuality(['accurate-measurement', 'personal-estimation', 'extrapolated-survey'])).toBe(
      'personal-estimation',
    );
    expect(worstQuality([])).toBe('accurate-measurement');
  });
});
