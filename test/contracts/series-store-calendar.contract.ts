import { describe, expect, it } from 'vitest';
import type { SeriesPoint } from '../../core/ports/series-store.ts';
import { type OpenStore, pt, storeFor, utc } from './series-store-fixtures.ts';

const HOUR = 3_600_000;

/**
 * Buckets follow the city's calendar: local hours and local days, which last 23 or 25 hours on DST days.
 * Expected bucket starts are written out as UTC instants (from the zone rules), not computed by our code.
 */
export function seriesStoreCalendarContract(open: OpenStore): void {
  describe('city calendar', () => {
    it('makes the Paris spring-forward day (2026-03-29) 23 hours long', async () => {
      const store = await storeFor(open, 'Europe/Paris');
      const dayStart = utc('2026-03-28T23:00'); // 00:00 CET (+01:00)
      const nextDay = utc('2026-03-29T22:00'); // 00:00 CEST (+02:00) on the 30th
      const points: SeriesPoint[] = [];
      for (let t = dayStart; t < nextDay; t += HOUR / 2) points.push(pt('aq-1', 'pm25', t, 1));
      points.push(pt('aq-1', 'pm25', nextDay, 100), pt('aq-1', 'pm25', dayStart - 60_000, 50));
      await store.write(points);
      const q = {
        scope: { device: 'aq-1' },
        metric: 'pm25',
        from: utc('2026-03-27T00:00'),
        to: utc('2026-04-01T00:00'),
      } as const;
      const days = await store.query({ ...q, step: 'day' });
      expect(days.map((d) => [d.t, d.count])).toEqual([
        [utc('2026-03-27T23:00'), 1],
        [dayStart, 46],
        [nextDay, 1],
      ]);
      const hours = await store.query({ ...q, from: dayStart, to: nextDay, step: 'hour' });
      expect(hours.length).toBe(23);
      expect(hours.map((h) => h.t)).toEqual(Array.from({ length: 23 }, (_, i) => dayStart + i * HOUR));
      expect(hours.every((h) => h.count === 2)).toBe(true);
    });

    it('makes the Paris fall-back day (2026-10-25) 25 hours long, with two local 02:00 hours', async () => {
      const store = await storeFor(open, 'Europe/Paris');
      const dayStart = utc('2026-10-24T22:00'); // 00:00 CEST
      const nextDay = utc('2026-10-25T23:00'); // 00:00 CET on the 26th
      const points: SeriesPoint[] = [];
      for (let t = dayStart + 15 * 60_000; t < nextDay; t += HOUR) points.push(pt('aq-1', 'pm25', t, 2));
      await store.write(points);
      const q = {
        scope: { city: true },
        metric: 'pm25',
        from: utc('2026-10-24T00:00'),
        to: utc('2026-10-27T00:00'),
      } as const;
      expect((await store.query({ ...q, step: 'day' })).map((d) => [d.t, d.count, d.sum])).toEqual([
        [dayStart, 25, 50],
      ]);
      const hours = await store.query({ ...q, step: 'hour' });
      expect(hours.map((h) => h.t)).toEqual(Array.from({ length: 25 }, (_, i) => dayStart + i * HOUR));
      expect((await store.aggregate({ ...q, from: dayStart, to: nextDay }))?.count).toBe(25);
    });

    it('starts São Paulo days at 03:00 UTC all year (no DST since 2019)', async () => {
      const store = await storeFor(open, 'America/Sao_Paulo');
      await store.write([
        pt('aq-1', 'pm25', utc('2026-01-15T02:59'), 1), // 23:59 local on the 14th
        pt('aq-1', 'pm25', utc('2026-01-15T03:00'), 2), // 00:00 local on the 15th
        pt('aq-1', 'pm25', utc('2026-07-15T02:59'), 3),
        pt('aq-1', 'pm25', utc('2026-07-15T03:00'), 4),
      ]);
      const days = await store.query({
        scope: { district: 'north' },
        metric: 'pm25',
        from: utc('2026-01-01T00:00'),
        to: utc('2027-01-01T00:00'),
        step: 'day',
      });
      expect(days.map((d) => [d.t, d.sum])).toEqual([
        [utc('2026-01-14T03:00'), 1],
        [utc('2026-01-15T03:00'), 2],
        [utc('2026-07-14T03:00'), 3],
        [utc('2026-07-15T03:00'), 4],
      ]);
    });

    it('starts local hours at half past the UTC hour in Kolkata (+05:30)', async () => {
      const store = await storeFor(open, 'Asia/Kolkata');
      await store.write([
        pt('aq-1', 'pm25', utc('2026-05-04T10:10'), 1),
        pt('aq-1', 'pm25', utc('2026-05-04T10:40'), 2),
      ]);
      const q = {
        scope: { device: 'aq-1' },
        metric: 'pm25',
        from: utc('2026-05-03T00:00'),
        to: utc('2026-05-05T00:00'),
      } as const;
      const hours = await store.query({ ...q, step: 'hour' });
      expect(hours.map((h) => [h.t, h.sum])).toEqual([
        [utc('2026-05-04T09:30'), 1],
        [utc('2026-05-04T10:30'), 2],
      ]);
      const days = await store.query({ ...q, step: 'day' });
      expect(days.map((d) => [d.t, d.count])).toEqual([[utc('2026-05-03T18:30'), 2]]);
    });
  });
}
