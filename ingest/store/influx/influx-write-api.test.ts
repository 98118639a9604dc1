import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CityCalendar } from '../../../core/city-calendar.ts';
import { ManualClock } from '../../../core/clock.ts';
import { CityError } from '../../../core/errors.ts';
import { silentLogger } from '../../../core/logger.ts';
import type { SeriesPoint } from '../../../core/ports/series-store.ts';
import { pt, utc } from '../../../test/contracts/series-store-fixtures.ts';
import { makeTempDir, type TempDir } from '../../../test/helpers/temp-dir.ts';
import {
  startVictoriaMetrics,
  type VictoriaTestServer,
  victoriaMetricsBinary,
} from '../../../test/servers/victoria-metrics.ts';
import type { InfluxStoreOptionsInput } from './influx-options.ts';
import { buildInfluxSeriesStore, type InfluxSeriesStore } from './influx-series-store.ts';

/**
 * The v2 transport (the client's WriteApi, POST /api/v2/write) against a real server speaking that API:
 * Debian's VictoriaMetrics. It ignores org and bucket and serves no InfluxQL, so points are read back
 * through its export API (metric `<measurement>_<field>`, our tags as labels).
 */
const binary = victoriaMetricsBinary();
const T = utc('2026-01-12T10:00');
let server: VictoriaTestServer;
const opened: Array<{ store: InfluxSeriesStore; dir: TempDir }> = [];

beforeAll(async () => {
  if (binary !== null) server = await startVictoriaMetrics(binary);
});
afterAll(async () => {
  for (const { store, dir } of opened) {
    await store.close();
    dir.remove();
  }
  await server?.destroy();
});

function failureCounter() {
  let count = 0;
  let waiter: { n: number; resolve: () => void } | null = null;
  return {
    get count() {
      return count;
    },
    hook: () => {
      count++;
      if (waiter !== null && count >= waiter.n) {
        waiter.resolve();
        waiter = null;
      }
    },
    reach: (n: number) =>
      new Promise<void>((resolve) => {
        if (count >= n) resolve();
        else waiter = { n, resolve };
      }),
  };
}

async function open(onFailed: () => void, overrides: Partial<InfluxStoreOptionsInput> = {}) {
  const dir = makeTempDir('citymetrics-writeapi-');
  const store = await buildInfluxSeriesStore(
    {
      logger: silentLogger(),
      clock: new ManualClock(T),
      calendar: new CityCalendar('UTC'),
      onWriteAttemptFailed: onFailed,
    },
    {
      url: server.url,
      writeTransport: 'v2',
      token: 'unused-by-victoria-metrics',
      org: 'city',
      bucket: 'citymetrics',
      indexFile: dir.file('influx-index.db'),
      batchSize: 250,
      minRetryDelayMs: 10,
      maxRetryDelayMs: 100,
      retryJitterMs: 0,
      maxRetries: 50,
      maxRetryTimeMs: 60_000,
      ...overrides,
    },
  );
  opened.push({ store, dir });
  return store;
}

/** What the server holds for a metric, as (device, ts, value) sorted. */
async function readBack(metric: string): Promise<Array<[string, number, number]>> {
  await server.forceFlush();
  const out: Array<[string, number, number]> = [];
  for (const s of await server.exportSeries(`{__name__="${metric}_value"}`))
    for (const [i, t] of s.timestamps.entries()) out.push([s.metric.device ?? '?', t, s.values[i]!]);
  return out.sort((a, b) => a[0].localeCompare(b[0]) || a[1] - b[1]);
}

const expected = (points: readonly SeriesPoint[]) =>
  points
    .map((p): [string, number, number] => [p.deviceId, p.ts, p.value])
    .sort((a, b) => a[0].localeCompare(b[0]) || a[1] - b[1]);

describe.skipIf(binary === null)(
  'WriteApi transport against a real /api/v2/write server (VictoriaMetrics)',
  () => {
    it('writes batched points with the schema tags; every point reads back', async () => {
      const failures = failureCounter();
      const store = await open(failures.hook);
      const points: SeriesPoint[] = [];
      for (let i = 0; i < 1_000; i++)
        points.push(
          pt(
            `wa-${i % 5}`,
            'laeq',
            T + i * 60_000,
            40 + (i % 30) / 2,
            i % 5 < 3 ? 'north' : 'south',
            'noise-monitor',
          ),
        );
      expect(await store.write(points)).toEqual({ inserted: 1_000, duplicates: 0, revisions: [] });
      expect(await store.write(points.slice(0, 10))).toEqual({ inserted: 0, duplicates: 10, revisions: [] });
      expect(await readBack('laeq')).toEqual(expected(points));
      const [one] = await server.exportSeries('{__name__="laeq_value",device="wa-3"}');
      expect(one?.metric).toMatchObject({ device: 'wa-3', kind: 'noise-monitor', district: 'south' });
      const [ts] = await server.exportSeries('{__name__="laeq_ts_ms",device="wa-3"}');
      expect(ts?.values).toEqual(ts?.timestamps);
      expect(failures.count).toBe(0);
      expect(store.stats()).toMatchObject({ writeFailures: 0, pending: 0, pointsWritten: 1_000 });
    });

    it('retries through an outage: the write resolves once the server is back, failures counted', async () => {
      const failures = failureCounter();
      const store = await open(failures.hook);
      const before = [0, 1, 2].map((i) => pt('wo-1', 'pm25', T + i * 60_000, i + 1));
      await store.write(before);
      await server.stop();
      const during = Array.from({ length: 600 }, (_, i) =>
        pt(`wo-${i % 3}`, 'pm25', T + (10 + i) * 60_000, i % 40),
      );
      const pending = store.write(during);
      await failures.reach(2);
      expect(store.health()).toMatchObject({ ok: false, pending: 600 });
      expect(store.health().detail).toMatch(/^INGEST_STORE_UNAVAILABLE/);
      await server.start();
      expect(await pending).toEqual({ inserted: 600, duplicates: 0, revisions: [] });
      expect(store.health()).toMatchObject({ ok: true, pending: 0 });
      expect(store.health().writeFailures).toBe(failures.count);
      expect(await readBack('pm25')).toEqual(expected([...before, ...during]));
    });

    it('gives up after maxRetries with a retryable error, remembers nothing, and takes the same batch later', async () => {
      const failures = failureCounter();
      const store = await open(failures.hook, { maxRetries: 2 });
      const batch = [0, 1, 2, 3].map((i) => pt('wg-1', 'no2', T + i * 60_000, 10 + i));
      await server.stop();
      const err = await store.write(batch).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CityError);
      expect((err as CityError).code).toBe('INGEST_STORE_UNAVAILABLE');
      expect((err as CityError).retryable).toBe(true);
      expect(failures.count).toBe(3); // the first attempt and two retries
      await server.start();
      // Not acknowledged by InfluxDB, so not in the identity index: the retry from the durable log inserts.
      expect(await store.write(batch)).toEqual({ inserted: 4, duplicates: 0, revisions: [] });
      expect(await readBack('no2')).toEqual(expected(batch));
    });

    it('bounds what waits: past maxPendingPoints a write is refused at once while InfluxDB is away', async () => {
      const failures = failureCounter();
      const store = await open(failures.hook, { maxPendingPoints: 100 });
      await server.stop();
      const stuck = store.write(Array.from({ length: 80 }, (_, i) => pt('wb-1', 'so2', T + i * 60_000, i)));
      await failures.reach(1);
      const refused = await store
        .write(Array.from({ length: 30 }, (_, i) => pt('wb-2', 'so2', T + i * 60_000, i)))
        .catch((e: unknown) => e);
      expect((refused as CityError).code).toBe('INGEST_STORE_UNAVAILABLE');
      expect(store.health().pending).toBe(80);
      await server.start();
      expect((await stuck).inserted).toBe(80);
    });
  },
);
