import { describe, expect, it } from 'vitest';
import type { SeriesPoint } from '../../core/ports/series-store.ts';
import { seriesStoreCalendarContract } from './series-store-calendar.contract.ts';
import {
  body,
  expectedAgg,
  mergeBuckets,
  type OpenStore,
  pt,
  storeFor,
  utc,
} from './series-store-fixtures.ts';
import { seriesStoreLatestContract } from './series-store-latest.contract.ts';

export type { OpenStore };

/**
 * The contract every SeriesStore passes (embedded SQLite, InfluxDB). It uses the port only, and its
 * expected answers are written out or computed from the raw points in the test, never by our calendar.
 *
 * What it asks of `open`: a fresh, empty store per call, calendar in the given zone, read-after-write
 * (a resolved write is visible to queries), every retention between 2 days and 20 years. Ranges are
 * minute-aligned; first/last ties between devices are avoided (their order is implementation-defined).
 */
export function seriesStoreContract(name: string, open: OpenStore): void {
  describe(`SeriesStore contract: ${name}`, () => {
    const T = utc('2026-01-12T10:00:00'); // Paris is UTC+1 in January: local 11:00
    const sec = (s: number) => T + s * 1000;
    const min = (m: number) => T + m * 60_000;

    describe('identity: duplicates and revisions', () => {
      it('reports new identities as inserted and an empty batch as nothing', async () => {
        const store = await storeFor(open);
        expect(await store.write([])).toEqual({ inserted: 0, duplicates: 0, revisions: [] });
        const out = await store.write([
          pt('aq-1', 'pm25', sec(0), 10),
          pt('aq-1', 'pm25', sec(1), 11),
          pt('aq-1', 'no2', sec(0), 3),
        ]);
        expect(out).toEqual({ inserted: 3, duplicates: 0, revisions: [] });
      });

      it('stores a duplicate once and reports it', async () => {
        const store = await storeFor(open);
        const batch = [0, 10, 20, 30, 40].map((s, i) => pt('aq-1', 'pm25', sec(s), i + 1));
        await store.write(batch);
        expect(await store.write(batch)).toEqual({ inserted: 0, duplicates: 5, revisions: [] });
        const q = { scope: { device: 'aq-1' }, metric: 'pm25', from: T, to: min(1) } as const;
        for (const step of ['minute', 'hour', 'day'] as const) {
          const buckets = await store.query({
            ...q,
            from: utc('2026-01-11T00:00'),
            to: utc('2026-01-13T00:00'),
            step,
          });
          expect(buckets.map((b) => [b.count, b.sum])).toEqual([[5, 15]]);
        }
        expect((await store.aggregate({ ...q, scope: { city: true } }))?.count).toBe(5);
      });

      it('counts a repeat inside one batch as a duplicate', async () => {
        const store = await storeFor(open);
        const out = await store.write([pt('aq-1', 'pm25', sec(5), 7), pt('aq-1', 'pm25', sec(5), 7)]);
        expect(out).toEqual({ inserted: 1, duplicates: 1, revisions: [] });
        const [b] = await store.query({
          scope: { device: 'aq-1' },
          metric: 'pm25',
          from: T,
          to: min(1),
          step: 'minute',
        });
        expect(b?.count).toBe(1);
      });

      it('replaces a revised value and reports the previous one; sending it again is a duplicate', async () => {
        const store = await storeFor(open);
        await store.write([pt('aq-1', 'pm25', sec(0), 10), pt('aq-1', 'pm25', sec(20), 50)]);
        const out = await store.write([pt('aq-1', 'pm25', sec(20), 5)]);
        expect(out).toEqual({
          inserted: 0,
          duplicates: 0,
          revisions: [{ deviceId: 'aq-1', metric: 'pm25', ts: sec(20), previous: 50, value: 5 }],
        });
        expect(await store.write([pt('aq-1', 'pm25', sec(20), 5)])).toEqual({
          inserted: 0,
          duplicates: 1,
          revisions: [],
        });
        const back = await store.write([pt('aq-1', 'pm25', sec(20), 50)]);
        expect(back.revisions).toEqual([
          { deviceId: 'aq-1', metric: 'pm25', ts: sec(20), previous: 5, value: 50 },
        ]);
      });

      it('handles a revision of an identity first written in the same batch', async () => {
        const store = await storeFor(open);
        const out = await store.write([pt('aq-1', 'pm25', sec(3), 1), pt('aq-1', 'pm25', sec(3), 2)]);
        expect(out.inserted).toBe(1);
        expect(out.revisions).toEqual([
          { deviceId: 'aq-1', metric: 'pm25', ts: sec(3), previous: 1, value: 2 },
        ]);
        const [b] = await store.query({
          scope: { district: 'north' },
          metric: 'pm25',
          from: T,
          to: min(1),
          step: 'minute',
        });
        expect(body(b)).toEqual(expectedAgg([{ ts: sec(3), value: 2 }]));
      });

      it('classifies a mixed batch exactly', async () => {
        const store = await storeFor(open);
        await store.write([
          pt('aq-1', 'pm25', sec(0), 1),
          pt('aq-1', 'pm25', sec(1), 2),
          pt('aq-2', 'pm25', sec(0), 3),
        ]);
        const out = await store.write([
          pt('aq-2', 'pm25', sec(0), 3), // duplicate
          pt('aq-1', 'pm25', sec(1), 9), // revision
          pt('aq-1', 'pm25', sec(2), 4), // new
          pt('aq-1', 'pm25', sec(0), 1), // duplicate
          pt('aq-1', 'no2', sec(1), 2), // new: another metric is another identity
        ]);
        expect(out.inserted).toBe(2);
        expect(out.duplicates).toBe(2);
        expect(out.revisions).toEqual([
          { deviceId: 'aq-1', metric: 'pm25', ts: sec(1), previous: 2, value: 9 },
        ]);
      });
    });

    describe('roll-ups', () => {
      it('computes minute, hour and day buckets for known input, late points included', async () => {
        const store = await storeFor(open);
        const at = (iso: string) => utc(`2026-01-12T${iso}`);
        await store.write([
          pt('aq-1', 'pm25', at('10:00:10'), 10),
          pt('aq-1', 'pm25', at('10:00:40'), 20),
          pt('aq-1', 'pm25', at('10:01:00'), 30),
          pt('aq-1', 'pm25', at('10:59:00'), 5),
          pt('aq-1', 'pm25', at('11:30:00'), 40),
        ]);
        // Late: older than everything stored. It becomes the first of its buckets, never the last.
        await store.write([pt('aq-1', 'pm25', at('10:00:05'), 7), pt('aq-1', 'pm25', at('09:15:00'), 1)]);
        const q = { scope: { device: 'aq-1' }, metric: 'pm25', from: at('00:00'), to: at('23:00') } as const;
        const b = (
          t: string,
          count: number,
          sum: number,
          lo: number,
          hi: number,
          f: [string, number],
          l: [string, number],
        ) => ({
          t: at(t),
          count,
          sum,
          min: lo,
          max: hi,
          mean: sum / count,
          firstTs: at(f[0]),
          first: f[1],
          lastTs: at(l[0]),
          last: l[1],
        });
        expect(await store.query({ ...q, step: 'minute' })).toEqual([
          b('09:15', 1, 1, 1, 1, ['09:15', 1], ['09:15', 1]),
          b('10:00', 3, 37, 7, 20, ['10:00:05', 7], ['10:00:40', 20]),
          b('10:01', 1, 30, 30, 30, ['10:01', 30], ['10:01', 30]),
          b('10:59', 1, 5, 5, 5, ['10:59', 5], ['10:59', 5]),
          b('11:30', 1, 40, 40, 40, ['11:30', 40], ['11:30', 40]),
        ]);
        expect(await store.query({ ...q, step: 'hour' })).toEqual([
          b('09:00', 1, 1, 1, 1, ['09:15', 1], ['09:15', 1]),
          b('10:00', 5, 72, 5, 30, ['10:00:05', 7], ['10:59', 5]),
          b('11:00', 1, 40, 40, 40, ['11:30', 40], ['11:30', 40]),
        ]);
        // The local (Paris) day of 2026-01-12 starts at 23:00 UTC the day before.
        const days = await store.query({ ...q, from: utc('2026-01-11T00:00'), step: 'day' });
        expect(days).toEqual([
          { ...b('09:15', 7, 113, 1, 40, ['09:15', 1], ['11:30', 40]), t: utc('2026-01-11T23:00') },
        ]);
      });

      it('leaves roll-ups equal to a recomputation after a revision, in every scope and tier', async () => {
        const store = await storeFor(open);
        const raw = [
          pt('aq-1', 'pm25', sec(0), 10),
          pt('aq-1', 'pm25', sec(20), 50),
          pt('aq-1', 'pm25', sec(40), 20),
        ];
        const other = pt('aq-2', 'pm25', sec(30), 15);
        await store.write([...raw, other]);
        await store.write([pt('aq-1', 'pm25', sec(20), 5), pt('aq-1', 'pm25', sec(0), 12)]); // the max and the first drop
        const device = [
          { ts: sec(0), value: 12 },
          { ts: sec(20), value: 5 },
          { ts: sec(40), value: 20 },
        ];
        const district = [...device, { ts: sec(30), value: 15 }];
        const range = { metric: 'pm25', from: utc('2026-01-11T00:00'), to: utc('2026-01-13T00:00') };
        for (const step of ['minute', 'hour', 'day'] as const) {
          const [d] = await store.query({ ...range, scope: { device: 'aq-1' }, step });
          expect(body(d)).toEqual(expectedAgg(device));
          const [n] = await store.query({ ...range, scope: { district: 'north' }, step });
          expect(body(n)).toEqual(expectedAgg(district));
          const [c] = await store.query({ ...range, scope: { city: true }, step });
          expect(body(c)).toEqual(expectedAgg(district));
        }
      });

      it('aggregates district and city scopes across devices and keeps metrics apart', async () => {
        const store = await storeFor(open);
        const points: SeriesPoint[] = [
          pt('aq-1', 'pm25', sec(0), 10, 'north'),
          pt('aq-2', 'pm25', sec(30), 20, 'north'),
          pt('aq-3', 'pm25', sec(45), 60, 'south'),
          pt('aq-1', 'pm25', min(1), 30, 'north'),
          pt('aq-1', 'no2', sec(10), 1000, 'north'),
        ];
        await store.write(points);
        const of = (pred: (p: SeriesPoint) => boolean, to = Number.POSITIVE_INFINITY) =>
          expectedAgg(points.filter((p) => pred(p) && p.ts < to));
        const q = { metric: 'pm25', from: T, to: T + 3_600_000 } as const;
        const minute = async (scope: { district: string } | { city: true }) =>
          body((await store.query({ ...q, scope, step: 'minute' }))[0]);
        expect(await minute({ district: 'north' })).toEqual(
          of((p) => p.metric === 'pm25' && p.district === 'north', min(1)),
        );
        expect(await minute({ district: 'south' })).toEqual(of((p) => p.deviceId === 'aq-3'));
        expect(await minute({ city: true })).toEqual(of((p) => p.metric === 'pm25', min(1)));
        const [cityHour] = await store.query({ ...q, scope: { city: true }, step: 'hour' });
        expect(body(cityHour)).toEqual(of((p) => p.metric === 'pm25'));
        const [no2] = await store.query({
          ...q,
          from: T - 86_400_000,
          metric: 'no2',
          scope: { city: true },
          step: 'day',
        });
        expect(body(no2)).toEqual(of((p) => p.metric === 'no2'));
      });

      it('gives the same buckets for a shuffled batch as computed from its raw points', async () => {
        const store = await storeFor(open);
        const points: SeriesPoint[] = [];
        for (let i = 0; i < 600; i++)
          points.push(pt(`aq-${i % 4}`, 'pm25', T + i * 17_000, (i * 7) % 31, i % 4 < 2 ? 'north' : 'south'));
        const shuffled = points
          .map((p, i) => ({ p, k: (i * 7919) % 601 }))
          .sort((a, b) => a.k - b.k)
          .map((x) => x.p);
        expect((await store.write(shuffled.slice(0, 300))).inserted).toBe(300);
        expect((await store.write(shuffled.slice(300))).inserted).toBe(300);
        const buckets = await store.query({
          scope: { district: 'south' },
          metric: 'pm25',
          from: T,
          to: T + 86_400_000,
          step: 'minute',
        });
        const south = points.filter((p) => p.district === 'south');
        expect(buckets.length).toBe(new Set(south.map((p) => Math.floor(p.ts / 60_000))).size);
        for (const b of buckets)
          expect(body(b)).toEqual(expectedAgg(south.filter((p) => p.ts >= b.t && p.ts < b.t + 60_000)));
      });
    });

    describe('queries', () => {
      it('selects buckets whose start lies in the half-open range [from, to)', async () => {
        const store = await storeFor(open);
        await store.write([0, 1, 2, 3].map((m) => pt('aq-1', 'pm25', min(m), m)));
        const got = await store.query({
          scope: { device: 'aq-1' },
          metric: 'pm25',
          from: min(1),
          to: min(3),
          step: 'minute',
        });
        expect(got.map((b) => b.t)).toEqual([min(1), min(2)]);
        const agg = await store.aggregate({
          scope: { device: 'aq-1' },
          metric: 'pm25',
          from: min(1),
          to: min(3),
        });
        expect(agg?.count).toBe(2);
        expect(agg?.sum).toBe(3);
      });

      it('returns [] and null for empty ranges, unknown series and inverted ranges', async () => {
        const store = await storeFor(open);
        await store.write([pt('aq-1', 'pm25', sec(0), 1)]);
        const q = { scope: { device: 'aq-1' }, metric: 'pm25', from: min(5), to: min(60) } as const;
        expect(await store.query({ ...q, step: 'minute' })).toEqual([]);
        expect(await store.aggregate(q)).toBeNull();
        expect(await store.query({ ...q, from: T, to: T, step: 'minute' })).toEqual([]);
        expect(await store.aggregate({ ...q, from: min(1), to: T })).toBeNull();
        expect(await store.query({ ...q, metric: 'so2', from: T, step: 'hour' })).toEqual([]);
        expect(await store.aggregate({ ...q, scope: { district: 'nowhere' }, from: T })).toBeNull();
        expect(await store.aggregate({ ...q, scope: { device: 'ghost' }, from: T })).toBeNull();
      });

      it('aggregates a ragged multi-day range exactly as the raw points and as merged query buckets', async () => {
        const store = await storeFor(open);
        const start = utc('2026-01-10T00:00');
        const points: SeriesPoint[] = [];
        for (let i = 0; i < 900; i++)
          points.push(
            pt(i % 2 ? 'aq-1' : 'aq-2', 'pm25', start + i * 7 * 60_000 + (i % 5) * 1000, (i * 11) % 37),
          );
        await store.write(points);
        const from = utc('2026-01-10T10:17');
        const to = utc('2026-01-12T14:43');
        const inRange = points.filter((p) => p.ts >= from && p.ts < to); // ranges are minute-aligned here
        for (const scope of [{ device: 'aq-1' }, { city: true }] as const) {
          const raw = 'city' in scope ? inRange : inRange.filter((p) => p.deviceId === 'aq-1');
          const agg = await store.aggregate({ scope, metric: 'pm25', from, to });
          expect(body(agg)).toEqual(expectedAgg(raw));
          const minutes = await store.query({ scope, metric: 'pm25', from, to, step: 'minute' });
          expect(body(agg)).toEqual(mergeBuckets(minutes));
        }
      });

      it('aggregates a whole-day range as the merge of its day, hour or minute buckets', async () => {
        const store = await storeFor(open);
        const points: SeriesPoint[] = [];
        for (let i = 0; i < 500; i++)
          points.push(pt('aq-1', 'pm25', utc('2026-01-10T20:00') + i * 9 * 60_000, i % 23, 'east'));
        await store.write(points);
        const q = {
          scope: { district: 'east' },
          metric: 'pm25',
          from: utc('2026-01-10T23:00'),
          to: utc('2026-01-12T23:00'),
        } as const;
        const agg = await store.aggregate(q);
        expect(agg?.count).toBe(points.filter((p) => p.ts >= q.from && p.ts < q.to).length);
        for (const step of ['day', 'hour', 'minute'] as const)
          expect(body(agg)).toEqual(mergeBuckets(await store.query({ ...q, step })));
      });
    });

    describe('aggregateByDevice (optional)', () => {
      it('gives, per device, exactly what aggregate() gives for that device, filtered by kind and district', async () => {
        const store = await storeFor(open);
        if (store.aggregateByDevice === undefined) return expect(store.aggregateByDevice).toBeUndefined();
        const start = utc('2026-01-10T00:00');
        const points: SeriesPoint[] = [];
        const devices = [
          ['aq-1', 'north', 'air-quality'],
          ['aq-2', 'south', 'air-quality'],
          ['nm-1', 'north', 'noise'],
        ] as const;
        for (let i = 0; i < 1200; i++) {
          const [id, district, kind] = devices[i % 3]!;
          points.push(pt(id, 'pm25', start + i * 5 * 60_000 + (i % 7) * 1000, (i * 13) % 41, district, kind));
        }
        points.push(pt('aq-1', 'no2', start + 3_600_000, 99)); // another metric stays apart
        await store.write(points);
        const q = { metric: 'pm25', from: utc('2026-01-10T10:17'), to: utc('2026-01-13T14:43') };
        const all = await store.aggregateByDevice(q);
        expect([...all.keys()].sort()).toEqual(['aq-1', 'aq-2', 'nm-1']);
        for (const [id] of devices) {
          const one = await store.aggregate({ ...q, scope: { device: id } });
          expect(all.get(id)).toEqual(one);
          const raw = points.filter(
            (p) => p.deviceId === id && p.metric === 'pm25' && p.ts >= q.from && p.ts < q.to,
          );
          expect(body(all.get(id))).toEqual(expectedAgg(raw));
          expect(all.get(id)?.t).toBe(q.from);
        }
        expect([...(await store.aggregateByDevice({ ...q, kind: 'noise' })).keys()]).toEqual(['nm-1']);
        expect([...(await store.aggregateByDevice({ ...q, district: 'south' })).keys()]).toEqual(['aq-2']);
        expect([
          ...(await store.aggregateByDevice({ ...q, kind: 'air-quality', district: 'north' })).keys(),
        ]).toEqual(['aq-1']);
        expect((await store.aggregateByDevice({ ...q, metric: 'so2' })).size).toBe(0);
        expect((await store.aggregateByDevice({ ...q, from: q.to, to: q.from })).size).toBe(0);
      });
    });

    seriesStoreLatestContract(open);
    seriesStoreCalendarContract(open);
  });
}
