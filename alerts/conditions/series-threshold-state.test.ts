import { describe, expect, it } from 'vitest';
import { ruleConditionSchema, type SeriesThreshold } from '../alert-types.ts';
import { SeriesThresholdState } from './series-threshold-state.ts';

const T0 = Date.parse('2026-11-12T08:00:00Z');
const MIN = 60_000;

const rule = (over: Record<string, unknown> = {}) =>
  ruleConditionSchema.parse({
    kind: 'series-threshold',
    scope: 'device',
    metric: 'pm25',
    op: '>',
    value: 25,
    ...over,
  }) as SeriesThreshold;

describe('series threshold state', () => {
  it('opens after forMinutes of reading time above, once per episode; clears after clearForMinutes past the margin', () => {
    const s = new SeriesThresholdState(rule({ forMinutes: 5, clearForMinutes: 2 }));
    const at = (m: number, v: number) => s.offer('aq-1', 'D1', v, T0 + m * MIN);
    for (let m = 0; m < 5; m++) expect(at(m, 30)).toBeNull();
    expect(at(5, 31)).toEqual({ kind: 'open', subject: 'aq-1', value: 31, since: T0 });
    expect(at(6, 32)).toEqual({ kind: 'update', subject: 'aq-1', value: 32 });
    // 24 is below 25 but above the clearing margin (25 − 1.25): nothing clears, the alert stays open
    expect(at(7, 24)).toEqual({ kind: 'update', subject: 'aq-1', value: 24 });
    expect(at(8, 20)).toEqual({ kind: 'update', subject: 'aq-1', value: 20 }); // in the zone since minute 8
    expect(at(9, 20)).toEqual({ kind: 'update', subject: 'aq-1', value: 20 });
    expect(at(10, 19)).toEqual({ kind: 'clear', subject: 'aq-1', value: 19 });
    expect(at(11, 18)).toBeNull(); // told once
  });

  it('a break in the condition starts forMinutes again; a late reading does not rewrite the episode', () => {
    const s = new SeriesThresholdState(rule({ forMinutes: 3 }));
    const at = (m: number, v: number) => s.offer('aq-1', 'D1', v, T0 + m * MIN);
    expect(at(0, 30)).toBeNull();
    expect(at(2, 30)).toBeNull();
    expect(at(3, 10)).toBeNull(); // broke before 3 minutes
    expect(at(4, 30)).toBeNull();
    expect(at(1, 99)).toBeNull(); // older than minute 4: ignored
    expect(at(7, 30)).toMatchObject({ kind: 'open', since: T0 + 4 * MIN });
  });

  it('a district is the mean of the latest value of each of its devices, by reading time', () => {
    const s = new SeriesThresholdState(rule({ scope: 'district', forMinutes: 0, clearForMinutes: 0 }));
    expect(s.offer('aq-1', 'D1', 40, T0)).toMatchObject({ kind: 'open', subject: 'D1', value: 40 });
    // aq-2 at 10: the mean is 25, not above 25, and not past the margin
    expect(s.offer('aq-2', 'D1', 10, T0 + MIN)).toEqual({ kind: 'update', subject: 'D1', value: 25 });
    // an older aq-1 reading does not replace its latest
    expect(s.offer('aq-1', 'D1', 0, T0 - MIN)).toBeNull();
    expect(s.offer('aq-1', 'D1', 20, T0 + 2 * MIN)).toEqual({ kind: 'clear', subject: 'D1', value: 15 });
    // another district, its own subject: below, it is told clear once (an alert opened before a restart
    // would clear), then nothing
    expect(s.offer('aq-9', 'D2', 5, T0)).toEqual({ kind: 'clear', subject: 'D2', value: 5 });
    expect(s.offer('aq-9', 'D2', 4, T0 + MIN)).toBeNull();
    expect(s.size).toBe(2);
  });

  it('tracks at most maxSubjects devices and counts what it ignored', () => {
    const s = new SeriesThresholdState(rule({ forMinutes: 0 }), 2);
    s.offer('a', 'D1', 30, T0);
    s.offer('b', 'D1', 30, T0);
    expect(s.offer('c', 'D1', 30, T0)).toBeNull();
    expect(s.ignored).toBe(1);
  });
});
