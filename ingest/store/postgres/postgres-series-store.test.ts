import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { CityCalendar } from '../../../core/city-calendar.ts';
import { ManualClock } from '../../../core/clock.ts';
import { testConfig } from '../../../core/config.ts';
import { CityError } from '../../../core/errors.ts';
import { silentLogger } from '../../../core/logger.ts';
import { createTelemetry } from '../../../core/telemetry.ts';
import { seriesStoreContract } from '../../../test/contracts/series-store.contract.ts';
import { pt, utc } from '../../../test/contracts/series-store-fixtures.ts';
import { makeTempDir } from '../../../test/helpers/temp-dir.ts';
import { type PostgresTestServer, postgresBinDir, startPostgres } from '../../../test/servers/postgres.ts';
import { openSeriesStore } from '../open-series-store.ts';
import { TEST_RETENTION } from '../sqlite-store-fixture.ts';
import { buildPostgresSeriesStore, type PostgresSeriesStoreOptions } from './postgres-series-store.ts';

const binDir = postgresBinDir();
let server: PostgresTestServer;
const T = utc('2026-01-12T10:00');

beforeAll(async () => {
  if (binDir !== null) server = await startPostgres(binDir);
}, 30_000);
afterAll(async () => {
  await server?.destroy();
});

const options = (
  url: string,
  extra: Partial<PostgresSeriesStoreOptions> = {},
): PostgresSeriesStoreOptions => ({
  url,
  calendar: new CityCalendar('Europe/Paris'),
  retention: TEST_RETENTION,
  logger: silentLogger(),
  clock: new ManualClock(utc('2026-06-01T00:00')),
  connectTimeoutMs: 2_000,
  ...extra,
});

/** A fresh database per store, dropped when the test ends. */
async function freshDatabase(): Promise<string> {
  const url = await server.createDatabase();
  onTestFinished(() => server.dropDatabase(url));
  return url;
}

async function caught(run: () => Promise<unknown>): Promise<CityError> {
  try {
    await run();
  } catch (err) {
    expect(err).toBeInstanceOf(CityError);
    return err as CityError;
  }
  throw new Error('expected a CityError');
}

describe.skipIf(binDir === null)('PostgresSeriesStore on PostgreSQL 15', () => {
  seriesStoreContract('postgres', async (zone) => {
    const url = await server.createDatabase();
    const store = await buildPostgresSeriesStore(options(url, { calendar: new CityCalendar(zone) }));
    return { store, cleanup: () => server.dropDatabase(url) };
  });

  it('keeps points, roll-ups and identities across a reopen, for another node on the same database', async () => {
    const url = await freshDatabase();
    const first = await buildPostgresSeriesStore(options(url));
    await first.write([pt('aq-1', 'pm25', T, 1), pt('aq-1', 'pm25', T + 60_000, 2)]);
    await first.close();
    const store = await buildPostgresSeriesStore(options(url));
    onTestFinished(() => store.close());
    expect(await store.write([pt('aq-1', 'pm25', T, 1), pt('aq-1', 'pm25', T + 60_000, 3)])).toEqual({
      inserted: 0,
      duplicates: 1,
      revisions: [{ deviceId: 'aq-1', metric: 'pm25', ts: T + 60_000, previous: 2, value: 3 }],
    });
    const agg = await store.aggregate({ scope: { city: true }, metric: 'pm25', from: T, to: T + 86_400_000 });
    expect([agg?.count, agg?.sum, agg?.max]).toEqual([2, 4, 3]);
    const history = await server.query('SELECT previous, value FROM revisions', url);
    expect(history.rows).toEqual([{ previous: 2, value: 3 }]);
  });

  it('refuses a schema of another version with STORE_CORRUPT naming the fix, and leaves it untouched', async () => {
    const url = await freshDatabase();
    const store = await buildPostgresSeriesStore(options(url));
    await store.write([pt('aq-1', 'pm25', T, 1)]);
    await store.close();
    await server.query('UPDATE citymetrics_schema SET version = 99', url);
    const err = await caught(() => buildPostgresSeriesStore(options(url)));
    expect(err.code).toBe('STORE_CORRUPT');
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('schema version 99');
    expect(err.message).toContain('POSTGRES_URL');
    expect((await server.query('SELECT COUNT(*)::int AS n FROM points', url)).rows).toEqual([{ n: 1 }]);
  });

  it('refuses a database holding tables of another application', async () => {
    const url = await freshDatabase();
    await server.query('CREATE TABLE points (x integer)', url);
    const err = await caught(() => buildPostgresSeriesStore(options(url)));
    expect(err.code).toBe('STORE_CORRUPT');
    expect(err.message).toContain('points');
  });

  it('refuses non-finite values and fractional timestamps before touching the database', async () => {
    const url = await freshDatabase();
    const store = await buildPostgresSeriesStore(options(url));
    onTestFinished(() => store.close());
    const nan = await caught(() => store.write([pt('aq-1', 'pm25', T, Number.NaN)]));
    expect(nan.code).toBe('INGEST_NOT_FINITE');
    const frac = await caught(() => store.write([pt('aq-1', 'pm25', T + 0.5, 1)]));
    expect(frac.code).toBe('INGEST_TS_INVALID');
    expect((await server.query('SELECT COUNT(*)::int AS n FROM series', url)).rows).toEqual([{ n: 0 }]);
  });
});

describe.skipIf(binDir === null)('STORE=postgres', () => {
  it('opens this store from the configuration, with its retention and the expired-points counter', async () => {
    const DAY = 86_400_000;
    const dir = makeTempDir('postgres-config-');
    onTestFinished(() => dir.remove());
    const config = testConfig({
      dataDir: dir.path,
      store: 'postgres',
      postgresUrl: await freshDatabase(),
      ingestLateWindowMs: DAY,
      retentionRawDays: 2,
    });
    const telemetry = createTelemetry();
    const store = await openSeriesStore({
      config,
      calendar: new CityCalendar('Europe/Paris'),
      clock: new ManualClock(T),
      logger: silentLogger(),
      telemetry,
    });
    onTestFinished(() => store.close());
    expect(store.name).toBe('postgres');
    await store.write([pt('aq-1', 'pm25', T - 4 * DAY, 1), pt('aq-1', 'pm25', T - DAY, 2)]);
    expect(await store.prune(T)).toBeGreaterThan(0);
    const outcome = await store.write([pt('aq-1', 'pm25', T - 4 * DAY, 3), pt('aq-1', 'pm25', T, 4)]);
    expect(outcome).toEqual({ inserted: 1, duplicates: 0, revisions: [] });
    expect((await telemetry.pointsExpired.get()).values[0]?.value).toBe(1);
  });
});

describe.skipIf(binDir === null)('PostgresSeriesStore outage', () => {
  it('rejects writes with a retryable error while the server is down, says so in health, and recovers', async () => {
    const url = await freshDatabase();
    const store = await buildPostgresSeriesStore(options(url));
    onTestFinished(() => store.close());
    await store.write([pt('aq-1', 'pm25', T, 1)]);
    expect(store.health().ok).toBe(true);

    await server.stop();
    onTestFinished(() => (server.running ? undefined : server.start()));
    const err = await caught(() => store.write([pt('aq-1', 'pm25', T + 60_000, 2)]));
    expect(err.code).toBe('INGEST_STORE_UNAVAILABLE');
    expect(err.retryable).toBe(true);
    const down = store.health();
    expect(down.ok).toBe(false);
    expect(down.detail).toMatch(/^INGEST_STORE_UNAVAILABLE: /);
    expect(down.writeFailures).toBeGreaterThanOrEqual(1);
    const read = await caught(() => store.latest('aq-1'));
    expect(read.code).toBe('INGEST_STORE_UNAVAILABLE');

    await server.start();
    // The retry the ingest makes from its durable log: the same batch, now taken.
    expect(await store.write([pt('aq-1', 'pm25', T + 60_000, 2)])).toEqual({
      inserted: 1,
      duplicates: 0,
      revisions: [],
    });
    expect(store.health().ok).toBe(true);
    expect(await store.latest('aq-1')).toEqual([{ metric: 'pm25', ts: T + 60_000, value: 2 }]);
  });

  it('fails to open: STORE_QUERY_FAILED for a missing database, retryable INGEST_STORE_UNAVAILABLE while the server is down', async () => {
    const url = `postgres://postgres@127.0.0.1:${server.port}/nonexistent_db`;
    const missing = await caught(() => buildPostgresSeriesStore(options(url)));
    expect(missing.code).toBe('STORE_QUERY_FAILED'); // the server answers: the database does not exist
    await server.stop();
    onTestFinished(() => (server.running ? undefined : server.start()));
    const down = await caught(() => buildPostgresSeriesStore(options(url)));
    expect(down.code).toBe('INGEST_STORE_UNAVAILABLE');
    expect(down.retryable).toBe(true);
  });
});
