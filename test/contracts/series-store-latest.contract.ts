import { describe, expect, it } from 'vitest';
import { type OpenStore, pt, storeFor, utc } from './series-store-fixtures.ts';

/** latest(), prune() and health() of the SeriesStore contract. */
export function seriesStoreLatestContract(open: OpenStore): void {
  const T = utc('2026-01-12T10:00:00');
  const sec = (s: number) => T + s * 1000;
  const min = (m: number) => T + m * 60_000;

  describe('latest', () => {
    it('is the newest reading by timestamp, not by arrival, per metric', async () => {
      const store = await storeFor(open);
      await store.write([pt('aq-1', 'pm25', min(5), 5), pt('aq-1', 'no2', min(1), 40)]);
      await store.write([pt('aq-1', 'pm25', min(0), 9)]); // arrives last, but is older
      const latest = await store.latest('aq-1');
      expect([...latest].sort((a, b) => a.metric.localeCompare(b.metric))).toEqual([
        { metric: 'no2', ts: min(1), value: 40 },
        { metric: 'pm25', ts: min(5), value: 5 },
      ]);
      expect(await store.latest('ghost')).toEqual([]);
    });

    it('follows a revision of the newest reading', async () => {
      const store = await storeFor(open);
      await store.write([pt('aq-1', 'pm25', min(0), 1), pt('aq-1', 'pm25', min(2), 2)]);
      await store.write([pt('aq-1', 'pm25', min(2), 3)]);
      expect(await store.latest('aq-1')).toEqual([{ metric: 'pm25', ts: min(2), value: 3 }]);
    });
  });

  describe('retention and health', () => {
    it('prune removes only expired data', async () => {
      const store = await storeFor(open);
      const ancient = utc('2000-01-05T10:00');
      await store.write([
        pt('aq-1', 'pm25', ancient, 1),
        pt('aq-1', 'pm25', sec(0), 2),
        pt('aq-2', 'pm25', ancient, 3),
      ]);
      const removed = await store.prune(T + 3_600_000);
      expect(removed).toBeGreaterThan(0);
      const all = { metric: 'pm25', from: utc('1999-01-01T00:00'), to: utc('2027-01-01T00:00') };
      for (const step of ['minute', 'hour', 'day'] as const) {
        const got = await store.query({ ...all, scope: { city: true }, step });
        expect(got.map((b) => [b.count, b.sum])).toEqual([[1, 2]]);
      }
      expect(await store.latest('aq-1')).toEqual([{ metric: 'pm25', ts: sec(0), value: 2 }]);
      expect(await store.latest('aq-2')).toEqual([]);
      expect(await store.prune(T + 3_600_000)).toBe(0);
    });

    it('reports health', async () => {
      const store = await storeFor(open);
      await store.write([pt('aq-1', 'pm25', sec(0), 2)]);
      const h = store.health();
      expect(h.ok).toBe(true);
      expect(h.writeFailures).toBe(0);
      expect(h.pending).toBeGreaterThanOrEqual(0);
      expect(typeof store.name).toBe('string');
    });
  });
}
