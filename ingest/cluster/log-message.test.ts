import { describe, expect, it } from 'vitest';
import { CityError } from '../../core/errors.ts';
import {
  decodeReadingsMessage,
  encodeReadings,
  eventMessageId,
  readingsMessageId,
  readingsSubject,
  shardOf,
  streamSubjects,
} from './log-message.ts';
import { JETSTREAM_LOG_DEFAULTS, jetStreamLogOptions } from './log-options.ts';

const T = Date.UTC(2026, 2, 15, 12, 0, 0);
const ctx = { deviceId: 'aq-0001', kind: 'air-quality-station', district: 'Old Town' };

describe('shards', () => {
  it('are stable per device, spread over the count, and name the subject', () => {
    // Known answers: FNV-1a of the id, so a change of hash (which would re-shard a running city) fails here.
    expect(shardOf('aq-0001', 16)).toBe(shardOf('aq-0001', 16));
    expect([shardOf('', 16), shardOf('a', 16), shardOf('aq-0001', 1)]).toEqual([
      0x811c9dc5 % 16,
      0xe40c292c % 16,
      0,
    ]);
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) seen.add(shardOf(`device-${i}`, 8));
    expect([...seen].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(readingsSubject({ subjectPrefix: 'citymetrics' }, 3)).toBe('citymetrics.readings.3');
    expect(streamSubjects({ subjectPrefix: 'x' })).toEqual(['x.readings.*', 'x.events.*']);
  });
});

describe('message ids', () => {
  const values = [
    { metric: 'pm25', ts: T, value: 12.5 },
    { metric: 'no2', ts: T, value: 19.1, fromUnit: 'ppb' },
  ];
  it.each([
    ['the same values (a resend)', values.map((v) => ({ ...v })), true],
    ['the same values in another order', [values[1]!, values[0]!], true],
    ['the same values sent in another unit', [values[0]!, { metric: 'no2', ts: T, value: 19.1 }], true],
    ['another ts (another reading)', values.map((v) => ({ ...v, ts: T + 1000 })), false],
    ['another value at the same ts (a revision)', [values[0]!, { ...values[1]!, value: 19.2 }], false],
    ['one value less', [values[0]!], false],
  ])('%s: same id %s', (_name, other, same) => {
    expect(readingsMessageId('aq-0001', other) === readingsMessageId('aq-0001', values)).toBe(same);
  });
  it('differ between devices with the same values, and events are keyed by type and ts', () => {
    expect(readingsMessageId('aq-0002', values)).not.toBe(readingsMessageId('aq-0001', values));
    expect(eventMessageId('aq-0001', 'outage_start', T)).toBe(`aq-0001/e/outage_start/${T}`);
  });
});

describe('readings messages', () => {
  it('decode to the series points they were encoded from', () => {
    const data = encodeReadings(ctx, [
      { metric: 'pm25', ts: T, value: 12.5 },
      { metric: 'no2', ts: T, value: 19.1, fromUnit: 'ppb' },
    ]);
    expect(decodeReadingsMessage(data)).toEqual([
      { ...ctx, metric: 'pm25', ts: T, value: 12.5 },
      { ...ctx, metric: 'no2', ts: T, value: 19.1 },
    ]);
  });
  it.each([
    ['not JSON', '{'],
    ['another format version', JSON.stringify({ v: 2, d: 'a', k: 'k', s: 's', x: [['m', T, 1]] })],
    ['no values', JSON.stringify({ v: 1, d: 'a', k: 'k', s: 's', x: [] })],
    ['a value that is not a number', JSON.stringify({ v: 1, d: 'a', k: 'k', s: 's', x: [['m', T, '1']] })],
  ])('are unreadable when %s', (_name, text) => {
    expect(decodeReadingsMessage(Buffer.from(text))).toBeNull();
  });
});

describe('log options', () => {
  it('default to the production stream and report every bad key at once', () => {
    expect(jetStreamLogOptions()).toEqual(JETSTREAM_LOG_DEFAULTS);
    expect(Object.isFrozen(jetStreamLogOptions({ replicas: 1 }))).toBe(true);
    let caught: unknown;
    try {
      jetStreamLogOptions({ stream: 'has.dot', shards: 0, replicas: 1 });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(CityError);
    expect((caught as CityError).code).toBe('CONFIG_INVALID');
    expect((caught as CityError).details).toHaveLength(2);
  });
});
