import { describe, expect, it } from 'vitest';
import { DeviceCounters, SEQ_WINDOW } from './device-counters.ts';

const seqOf = (c: DeviceCounters, id = 'd1') => c.get(id)?.seq;

describe('DeviceCounters: seq numbers', () => {
  it('counts what was published, what arrived and what never did', () => {
    const c = new DeviceCounters();
    for (const s of [0, 1, 2, 4, 5, 6, 8, 9]) c.received('d1', 1, [s]);
    expect(seqOf(c)).toMatchObject({ published: 10, seen: 8, gaps: 2, repeated: 0, highest: 9 });
    c.received('d1', 2, [5]); // a resend
    expect(seqOf(c)).toMatchObject({ seen: 8, gaps: 2, repeated: 1 });
    c.received('d1', 3, [3]); // late, out of order
    expect(seqOf(c)).toMatchObject({ published: 10, seen: 9, gaps: 1, repeated: 1 });
    expect(c.get('d1')?.received).toBe(10);
  });

  it('an earlier number arriving after the first one widens the span', () => {
    const c = new DeviceCounters();
    c.received('d1', 1, [5]);
    c.received('d1', 1, [3]);
    expect(seqOf(c)).toMatchObject({ published: 3, seen: 2, gaps: 1 });
    c.received('d1', 1, [4]);
    expect(seqOf(c)).toMatchObject({ published: 3, seen: 3, gaps: 0 });
  });

  it('a jump forward leaves its gap; a fall far below the highest is a restart', () => {
    const c = new DeviceCounters();
    for (let s = 0; s < 10; s++) c.received('d1', 1, [s]);
    c.received('d1', 1, [2_000]);
    expect(seqOf(c)).toMatchObject({ published: 2_001, seen: 11, gaps: 1_990 });
    // Numbers start again at 0 (2 000 - 0 > SEQ_WINDOW): a new run, the old one kept in the totals.
    expect(2_000 - 0).toBeGreaterThan(SEQ_WINDOW);
    for (const s of [0, 1, 2]) c.received('d1', 1, [s]);
    expect(seqOf(c)).toMatchObject({ published: 2_004, seen: 14, gaps: 1_990, restarts: 1, highest: 2 });
  });

  it('a batch carries one seq per reading; a device without seq has none', () => {
    const c = new DeviceCounters();
    c.received('d1', 1, [10, 11, 12]);
    c.received('d2', 1, undefined);
    expect(seqOf(c)).toMatchObject({ published: 3, seen: 3, gaps: 0 });
    expect(c.get('d2')?.seq).toBeNull();
  });

  it('after the window moved on, an old slot does not pass for a number already seen', () => {
    const c = new DeviceCounters();
    c.received('d1', 1, [0]);
    c.received('d1', 1, [SEQ_WINDOW + 1]); // slot of 1 cleared on the way
    c.received('d1', 1, [SEQ_WINDOW]); // same slot as 0: not a repeat
    expect(seqOf(c)).toMatchObject({ seen: 3, repeated: 0, gaps: SEQ_WINDOW + 2 - 3 });
  });
});

describe('DeviceCounters: outcomes', () => {
  it('keeps accepted, refused by reason and stored apart per device', () => {
    const c = new DeviceCounters();
    c.accepted('d1', 2, 5);
    c.accepted('d1', 1, 1);
    c.refused('d1', 'INGEST_OUT_OF_RANGE');
    c.refused('d1', 'INGEST_OUT_OF_RANGE');
    c.refused('d1', 'INGEST_SCHEMA');
    c.stored('d1', 6);
    c.stored('d2', 1);
    expect(c.get('d1')).toMatchObject({
      accepted: { messages: 2, readings: 3, values: 6 },
      refused: { total: 3, byReason: { INGEST_OUT_OF_RANGE: 2, INGEST_SCHEMA: 1 } },
      stored: 6,
    });
    expect(c.get('d2')?.stored).toBe(1);
    c.forget('d1');
    expect(c.get('d1')).toBeNull();
    expect(c.all().map((d) => d.deviceId)).toEqual(['d2']);
  });
});
