import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.ts';
import { silentLogger } from '../core/logger.ts';
import { readingSchema } from '../core/reading-schema.ts';
import { KindCatalogue } from '../devices/kind-catalogue.ts';
import { Backoff } from './backoff.ts';
import { BoundedQueue } from './bounded-queue.ts';
import type { FaultOptionsInput } from './faults.ts';
import { mulberry32 } from './prng.ts';
import { startTestBroker, type TestBroker } from './test-broker.ts';
import { VirtualDevice } from './virtual-device.ts';

const catalogue = new KindCatalogue();
const T0 = Date.parse('2026-03-10T07:00:00Z');
let broker: TestBroker;

beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => {
  await broker.close();
});

/** Runs `ticks` readings of a fresh device with the given faults; returns the telemetry payloads it sent. */
async function payloadsWith(id: string, faults: FaultOptionsInput, ticks: number, kind = 'noise-monitor') {
  const clock = new ManualClock(T0);
  const d = new VirtualDevice({
    id,
    password: 'x',
    kind: catalogue.get(kind)!,
    url: broker.url,
    intervalMs: 0,
    seed: 3,
    clock,
    logger: silentLogger(),
    faults,
    outageProbability: kind.startsWith('electricity') ? 1 : 0,
  });
  const connected = new Promise<void>((resolve) => d.once('connect', resolve));
  d.start();
  await connected;
  let published = 0;
  d.on('published', () => published++);
  for (let i = 0; i < ticks; i++) {
    d.tick();
    clock.advance(60_000);
  }
  const expected = published;
  await broker.waitFor((ms) => ms.filter((m) => m.topic === `devices/${id}/telemetry`).length === expected);
  const stats = await d.stop();
  const messages = broker.messages.filter((m) => m.topic.startsWith(`devices/${id}/`));
  return {
    stats,
    telemetry: messages.filter((m) => m.topic.endsWith('/telemetry')).map((m) => m.payload),
    events: messages
      .filter((m) => m.topic.endsWith('/events'))
      .map((m) => JSON.parse(m.payload) as { ts: number; type: string }),
  };
}

const parse = (p: string) => readingSchema.parse(JSON.parse(p));

describe('fault injection', () => {
  it('malformed: the payload is not JSON', async () => {
    const { telemetry, stats } = await payloadsWith('f-malformed', { malformed: 1 }, 3);
    expect(telemetry).toHaveLength(3);
    for (const p of telemetry) expect(() => JSON.parse(p)).toThrow();
    expect(stats.faults.malformed).toBe(3);
  });

  it('out of range: one value above the metric maximum', async () => {
    const { telemetry, stats } = await payloadsWith('f-range', { outOfRange: 1 }, 2);
    for (const p of telemetry) {
      const r = parse(p);
      const over = catalogue
        .get('noise-monitor')!
        .metrics.filter((m) => (r.values[m.name] as number) > m.max);
      expect(over).toHaveLength(1);
    }
    expect(stats.faults.outOfRange).toBe(2);
  });

  it('wrong unit: a value sent in furlongs', async () => {
    const { telemetry, stats } = await payloadsWith('f-unit', { wrongUnit: 1 }, 2);
    for (const p of telemetry) {
      const units = Object.values(parse(p).values).filter((v) => typeof v === 'object');
      expect(units).toEqual([expect.objectContaining({ unit: 'furlongs' })]);
    }
    expect(stats.faults.wrongUnit).toBe(2);
  });

  it('duplicate: the same payload twice', async () => {
    const { telemetry, stats } = await payloadsWith('f-dup', { duplicate: 1 }, 2);
    expect(telemetry).toHaveLength(4);
    expect(telemetry[0]).toBe(telemetry[1]);
    expect(telemetry[2]).toBe(telemetry[3]);
    expect(telemetry[0]).not.toBe(telemetry[2]);
    expect(stats.faults.duplicate).toBe(2);
  });

  it('out of order: each held reading follows the next one', async () => {
    const { telemetry, stats } = await payloadsWith('f-order', { outOfOrder: 1 }, 4);
    expect(telemetry.map((p) => parse(p).seq)).toEqual([1, 0, 3, 2]);
    expect(stats.faults.outOfOrder).toBe(2);
  });

  it('late readings and clock skew move the timestamps', async () => {
    const late = await payloadsWith('f-late', { late: 1, lateByMs: 7_200_000 }, 1);
    expect(parse(late.telemetry[0]!).ts).toBe(T0 - 7_200_000);
    const skew = await payloadsWith('f-skew', { clockSkewShare: 1, clockSkewSec: -90 }, 2);
    expect(skew.telemetry.map((p) => parse(p).ts)).toEqual([T0 - 90_000, T0 + 60_000 - 90_000]);
    expect(skew.stats.faults.clockSkew).toBe(2);
  });

  it('electricity outages: outage_start, zero supply, then restore', async () => {
    const { telemetry, events } = await payloadsWith('f-outage', {}, 6, 'electricity-smart-meter');
    expect(events[0]).toEqual({ ts: T0, type: 'outage_start' });
    expect(parse(telemetry[0]!).values).toEqual({ energy: 0, supply: 0, voltage: 0 });
    const restore = events.find((e) => e.type === 'restore');
    expect(restore).toBeDefined();
    const after = telemetry.map(parse).find((r) => r.ts === restore!.ts);
    expect(after?.values.supply).toBe(1);
  });
});

describe('bounded queue', () => {
  it('drops the oldest when full and counts it', () => {
    const q = new BoundedQueue<number>(3);
    for (let i = 0; i < 5; i++) q.push(i);
    expect(q.dropped).toBe(2);
    expect(q.take(2)).toEqual([2, 3]);
    q.unshift([7, 8, 9]);
    expect(q.size).toBe(3);
    expect(q.dropped).toBe(3);
    expect(q.take(10)).toEqual([8, 9, 4]);
  });
});

describe('backoff', () => {
  it('grows exponentially with jitter, is capped, and resets', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1000, factor: 2, jitter: 0.5 }, mulberry32(1));
    const delays = Array.from({ length: 8 }, () => b.next());
    const ceilings = [100, 200, 400, 800, 1000, 1000, 1000, 1000];
    delays.forEach((d, i) => {
      expect(d).toBeGreaterThanOrEqual(ceilings[i]! / 2);
      expect(d).toBeLessThanOrEqual(ceilings[i]!);
    });
    expect(new Set(delays.slice(4)).size).toBeGreaterThan(1); // jittered, not lock-step
    b.reset();
    expect(b.next()).toBeLessThanOrEqual(100);
  });
});
