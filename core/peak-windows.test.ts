import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';
import { CityError } from './errors.ts';
import { parsePeakWindows } from './peak-windows.ts';

describe('peak windows (TTI_PEAK_WINDOWS)', () => {
  it.each([
    [
      '07:00-09:00,16:30-18:30',
      [
        [420, 540],
        [990, 1110],
      ],
    ],
    [
      ' 16:30-18:30 , 07:00-09:00 ',
      [
        [420, 540],
        [990, 1110],
      ],
    ],
    ['22:00-24:00', [[1320, 1440]]],
    ['00:00-00:01', [[0, 1]]],
  ])('reads %j', (text, windows) => {
    expect(parsePeakWindows(text)?.map((w) => [w.startMin, w.endMin])).toEqual(windows);
  });

  it.each([
    '',
    '7:00-9:00',
    '07:00-09:00;16:30-18:30',
    '09:00-07:00',
    '08:00-08:00',
    '07:00-09:00,08:30-10:00',
    '24:00-24:30',
    '07:60-09:00',
    '24:00-24:01',
  ])('refuses %j', (text) => {
    expect(parsePeakWindows(text)).toBeNull();
  });

  it('defaults to 07:00-09:00,16:30-18:30; a bad value names the key and the form expected', () => {
    expect(loadConfig({}).ttiPeakWindows).toBe('07:00-09:00,16:30-18:30');
    expect(loadConfig({ TTI_PEAK_WINDOWS: '06:30-09:30' }).ttiPeakWindows).toBe('06:30-09:30');
    let refused: unknown;
    try {
      loadConfig({ TTI_PEAK_WINDOWS: '7-9' });
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(CityError);
    expect((refused as CityError).code).toBe('CONFIG_INVALID');
    const details = (refused as CityError & { details?: string[] }).details ?? [];
    expect(details).toHaveLength(1);
    expect(details[0]).toMatch(/^TTI_PEAK_WINDOWS: expected HH:MM-HH:MM\[,HH:MM-HH:MM\.\.\.\]/);
  });
});
