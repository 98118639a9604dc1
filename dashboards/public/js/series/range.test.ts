import { describe, expect, it } from 'vitest';
import { axisLabels, isoWithOffset, monthStart, parseWall } from '../city-time.js';
import { resolveRange, stepFor } from './range.js';

const utc = (iso: string) => Date.parse(iso);

describe('city time of the series view', () => {
  it('reads a wall-clock time in the city zone, across DST changes', () => {
    const cases: Array<[string, string, string | null]> = [
      ['2026-12-01 08:00', 'Asia/Kathmandu', '2026-12-01T02:15:00Z'],
      ['2026-07-01 12:00', 'Europe/Paris', '2026-07-01T10:00:00Z'],
      ['2026-01-15 12:00', 'America/New_York', '2026-01-15T17:00:00Z'],
      // 02:30 does not exist in Paris on 29 March 2026: forward by the hour skipped (03:30 CEST).
      ['2026-03-29 02:30', 'Europe/Paris', '2026-03-29T01:30:00Z'],
      // 02:30 occurs twice on 25 October 2026: the first (CEST).
      ['2026-10-25 02:30', 'Europe/Paris', '2026-10-25T00:30:00Z'],
      ['2026-02-31 10:00', 'Europe/Paris', null],
      ['2026-12-01 24:00', 'Europe/Paris', null],
      ['1 Dec 2026 10:00', 'Europe/Paris', null],
    ];
    for (const [text, zone, expected] of cases)
      expect([text, zone, parseWall(text, zone)]).toEqual([
        text,
        zone,
        expected === null ? null : utc(expected),
      ]);
  });

  it('writes ISO 8601 with the offset of the city at that instant', () => {
    expect(isoWithOffset(utc('2026-12-01T02:15:00Z'), 'Asia/Kathmandu')).toBe('2026-12-01T08:00:00+05:45');
    expect(isoWithOffset(utc('2026-07-01T10:00:00Z'), 'Europe/Paris')).toBe('2026-07-01T12:00:00+02:00');
    expect(isoWithOffset(utc('2026-01-15T17:00:00Z'), 'America/New_York')).toBe('2026-01-15T12:00:00-05:00');
  });

  it('starts months at city midnight, across a year end', () => {
    const now = utc('2026-01-10T12:00:00Z');
    expect(monthStart(now, 'Europe/Paris', 0)).toBe(utc('2025-12-31T23:00:00Z'));
    expect(monthStart(now, 'Europe/Paris', -1)).toBe(utc('2025-11-30T23:00:00Z'));
  });

  it('labels a time axis on a 24-hour clock, with the date where the day changes', () => {
    const hours = [22, 23, 24, 25].map((h) => utc('2026-12-01T00:00:00Z') + h * 3_600_000);
    expect(axisLabels(hours, 'UTC')).toEqual(['22:00\n1 Dec', '23:00', '00:00\n2 Dec', '01:00']);
    expect(
      axisLabels(
        [0, 1, 2].map((d) => utc('2026-12-01T00:00:00Z') + d * 86_400_000),
        'UTC',
      ),
    ).toEqual(['1 Dec', '2 Dec', '3 Dec']);
  });
});

describe('range and step of the series view', () => {
  it('chooses the step so that a chart keeps a few hundred points at most', () => {
    const H = 3_600_000;
    const cases: Array<[number, string]> = [
      [H, 'minute'],
      [8 * H, 'minute'],
      [8 * H + 1, 'hour'],
      [20 * 24 * H, 'hour'],
      [20 * 24 * H + 1, 'day'],
      [365 * 24 * H, 'day'],
    ];
    for (const [span, step] of cases) expect([span, stepFor(span)]).toEqual([span, step]);
  });

  it('resolves presets, last month in the city, custom ranges and old step links', () => {
    const now = utc('2026-12-03T17:07:00Z');
    const zone = 'Europe/Paris';
    expect(resolveRange('6h', now, zone)).toMatchObject({
      step: 'minute',
      from: now - 6 * 3_600_000,
      live: true,
    });
    expect(resolveRange('7d', now, zone)).toMatchObject({ step: 'hour', to: now + 3_600_000 });
    expect(resolveRange('last-month', now, zone)).toEqual({
      token: 'last-month',
      from: utc('2026-10-31T23:00:00Z'),
      to: utc('2026-11-30T23:00:00Z'),
      step: 'day',
      live: false,
    });
    expect(resolveRange('this-month', now, zone)).toMatchObject({
      from: utc('2026-11-30T23:00:00Z'),
      step: 'hour',
    });
    expect(resolveRange('2026-12-01T08:00~2026-12-01T20:00', now, zone)).toEqual({
      token: '2026-12-01T08:00~2026-12-01T20:00',
      from: utc('2026-12-01T07:00:00Z'),
      to: utc('2026-12-01T19:00:00Z'),
      step: 'hour',
      live: false,
    });
    // An unreadable or reversed custom range falls back to the last 24 hours; a step names its old range.
    expect(resolveRange('2026-12-02T08:00~2026-12-01T08:00', now, zone).token).toBe('24h');
    expect(resolveRange('minute', now, zone)).toMatchObject({ token: '6h', step: 'minute' });
  });
});
