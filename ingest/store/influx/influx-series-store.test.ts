import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CityCalendar } from '../../../core/city-calendar.ts';
import { ManualClock } from '../../../core/clock.ts';
import { silentLogger } from '../../../core/logger.ts';
import { seriesStoreContract } from '../../../test/contracts/series-store.contract.ts';
import { pt, utc } from '../../../test/contracts/series-store-fixtures.ts';
import { makeTempDir } from '../../../test/helpers/temp-dir.ts';
import { type InfluxTestServer, influxdBinary, startInfluxd } from '../../../test/servers/influxdb.ts';
import { buildInfluxSeriesStore, type InfluxSeriesStore } from './influx-series-store.ts';

const binary = influxdBinary();
let server: InfluxTestServer;
let dbCount = 0;

beforeAll(async () => {
  if (binary !== null) server = await startInfluxd(binary);
});
afterAll(async () => {
  await server?.destroy();
});

/** A fresh database on the shared influxd and a fresh identity index, per store. */
async function openStore(zone: string, overrides: Record<string, unknown> = {}) {
  const dir = makeTempDir('citymetrics-influx-store-');
  const database = `contract_${process.pid}_${++dbCount}`;
  const store = await buildInfluxSeriesStore(
    {
      logger: silentLogger(),
      clock: new ManualClock(utc('2026-06-01T00:00')),
      calendar: new CityCalendar(zone),
    },
    {
      url: server.url,
      writeTransport: 'v1',
      database,
      createDatabase: true,
      deleteOnPrune: true,
      retentionRawDays: 365,
      identityWindowDays: 30,
      indexFile: dir.file('influx-index.db'),
      minRetryDelayMs: 10,
      maxRetryDelayMs: 50,
      retryJitterMs: 0,
      ...overrides,
    },
  );
  const cleanup = async () => {
    await server.query(`DROP DATABASE "${database}"`);
    dir.remove();
  };
  return { store, cleanup };
}

describe.skipIf(binary === null)('InfluxSeriesStore on InfluxDB 1.x (v1 /write, InfluxQL /query)', () => {
  seriesStoreContract('influxdb (v1 transport)', (zone) => openStore(zone));

  it('remembers identities for identityWindowDays only, keeping older points in InfluxDB until retentionRawDays', async () => {
    const { store, cleanup } = await openStore('UTC', { identityWindowDays: 2, retentionRawDays: 30 });
    try {
      const now = utc('2026-03-10T12:00');
      const old = pt('aq-1', 'pm25', now - 10 * 86_400_000, 4);
      const ancient = pt('aq-1', 'pm25', now - 40 * 86_400_000, 9);
      await store.write([ancient, old, pt('aq-1', 'pm25', now - 3_600_000, 5)]);
      expect(await store.prune(now)).toBe(2); // identities of `old` and `ancient` forgotten
      const all = {
        scope: { device: 'aq-1' },
        metric: 'pm25',
        from: now - 50 * 86_400_000,
        to: now,
      } as const;
      expect((await store.aggregate(all))?.sum).toBe(9); // `ancient` deleted, `old` still in InfluxDB
      expect(await store.write([{ ...old, value: 6 }])).toEqual({
        inserted: 0,
        duplicates: 0,
        revisions: [],
      });
      expect(store.stats().expired).toBe(1); // refused: its identity can no longer be checked
      expect((await store.aggregate(all))?.sum).toBe(9);
    } finally {
      await store.close();
      await cleanup();
    }
  });

  describe('schema', () => {
    let store: InfluxSeriesStore;
    let cleanup: () => Promise<void>;
    beforeAll(async () => {
      ({ store, cleanup } = await openStore('Europe/Paris'));
    });
    afterAll(async () => {
      await store.close();
      await cleanup();
    });

    it('writes one measurement per metric with device, kind and district tags and value, ts_ms fields', async () => {
      const t = utc('2026-02-01T08:00');
      await store.write([pt('aq-9', 'pm25', t, 12.5, 'harbour', 'air-quality-station')]);
      const db = store.options.database;
      const [res] = await server.query('SELECT * FROM "pm25"', db);
      expect(res?.series?.[0]?.columns).toEqual(['time', 'device', 'district', 'kind', 'ts_ms', 'value']);
      expect(res?.series?.[0]?.values).toEqual([[t, 'aq-9', 'harbour', 'air-quality-station', t, 12.5]]);
      const [keys] = await server.query('SHOW TAG KEYS FROM "pm25"', db);
      expect(keys?.series?.[0]?.values.flat()).toEqual(['device', 'district', 'kind']);
    });

    it('revises a point under its original tags when the device has moved district since', async () => {
      const t = utc('2026-02-01T09:00');
      await store.write([pt('aq-8', 'no2', t, 30, 'north')]);
      const out = await store.write([pt('aq-8', 'no2', t, 31, 'south')]);
      expect(out.revisions).toEqual([{ deviceId: 'aq-8', metric: 'no2', ts: t, previous: 30, value: 31 }]);
      const [res] = await server.query(
        'SELECT count("value") FROM "no2" WHERE "device" = \'aq-8\' GROUP BY "district"',
        store.options.database,
      );
      expect(res?.series?.map((s) => [s.tags?.district, s.values[0]?.[1]])).toEqual([['north', 1]]);
      const agg = await store.aggregate({
        scope: { district: 'north' },
        metric: 'no2',
        from: t,
        to: t + 60_000,
      });
      expect(agg?.sum).toBe(31);
    });
  });
});
