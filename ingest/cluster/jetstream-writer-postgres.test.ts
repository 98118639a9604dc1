import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { CityCalendar } from '../../core/city-calendar.ts';
import { silentLogger } from '../../core/logger.ts';
import { type NatsTestCluster, natsServerBinary, startNats } from '../../test/servers/nats.ts';
import { type PostgresTestServer, postgresBinDir, startPostgres } from '../../test/servers/postgres.ts';
import { buildPostgresSeriesStore } from '../store/postgres/postgres-series-store.ts';
import { TEST_RETENTION } from '../store/sqlite-store-fixture.ts';
import { connectNats, edgeFixture, pointCount, reading, testLog, until } from './cluster-fixture.ts';
import { buildJetStreamWriter } from './jetstream-writer.ts';
import { ensureReadingsStream } from './readings-stream.ts';

const natsBinary = natsServerBinary();
const pgBin = postgresBinDir();
let nats: NatsTestCluster;
let pg: PostgresTestServer;

beforeAll(async () => {
  if (natsBinary === null || pgBin === null) return;
  [nats, pg] = await Promise.all([startNats(1, natsBinary), startPostgres(pgBin)]);
}, 30_000);
afterAll(async () => {
  await Promise.all([nats?.destroy(), pg?.destroy()]);
});

describe.skipIf(natsBinary === null || pgBin === null)('JetStream writer on PostgreSQL', () => {
  it('loses nothing and stores nothing twice when its database and then the writer die mid-batch', async () => {
    const log = testLog();
    const url = await pg.createDatabase();
    const edgeNc = await connectNats(nats.urls);
    const edge = edgeFixture(edgeNc, log);
    const storeOptions = {
      url,
      calendar: new CityCalendar('Europe/Paris'),
      retention: TEST_RETENTION,
      logger: silentLogger(),
      clock: edge.clock,
      connectTimeoutMs: 1_000,
    };
    await ensureReadingsStream(await edgeNc.jetstreamManager(), log);
    const writerOptions = {
      log,
      consumer: 'pg-writer',
      ackWaitMs: 2_000,
      retryDelayMs: 200,
      batchMaxWaitMs: 20,
    };

    // First writer: its own connection and store, as a separate process would have.
    const nc1 = await connectNats(nats.urls);
    const store1 = await buildPostgresSeriesStore(storeOptions);
    const writer1 = buildJetStreamWriter({ nc: nc1, store: store1, logger: silentLogger() }, writerOptions);
    await writer1.start();
    onTestFinished(async () => {
      if (!pg.running) await pg.start();
      await edge.close();
      await edgeNc.close();
    });

    const devices = await edge.devices(4);
    const submitRange = async (from: number, to: number) => {
      const results = await Promise.all(
        devices.flatMap((id) =>
          Array.from({ length: to - from }, (_, k) => edge.sink.submit(id, 'telemetry', reading(from + k))),
        ),
      );
      expect(results.every((r) => r.ok)).toBe(true);
    };
    await submitRange(0, 25);
    await until('the first half to be stored', () => writer1.health().stored.messages === 100);

    // The database goes away while the next messages arrive: they are logged (the edge acknowledges),
    // the writer fetches them, its writes fail and nothing is acknowledged to JetStream.
    await pg.stop();
    await submitRange(25, 50);
    await until('a failed store write', () => writer1.health().writeFailures > 0);
    expect(writer1.health()).toMatchObject({ ok: false, waitingFor: 'store', stored: { messages: 100 } });

    // Then the writer process dies holding messages: its connection drops without acks or naks.
    await nc1.close();
    await writer1.close();
    await store1.close();

    await pg.start();
    const nc2 = await connectNats(nats.urls);
    const store2 = await buildPostgresSeriesStore(storeOptions);
    const writer2 = buildJetStreamWriter({ nc: nc2, store: store2, logger: silentLogger() }, writerOptions);
    await writer2.start();
    try {
      await until(
        'the second writer to store the rest',
        async () => (await pointCount(store2)) === 200,
        30_000,
      );
      const jsm = await nc2.jetstreamManager();
      await until('every message to be acknowledged', async () => {
        const infos = await Promise.all(
          Array.from({ length: log.shards }, (_, s) => jsm.consumers.info(log.stream, `pg-writer-${s}`)),
        );
        return infos.every((c) => c.num_pending === 0 && c.num_ack_pending === 0);
      });
      const rows = await pg.query('SELECT count(*)::int AS n FROM points', url);
      expect(rows.rows[0].n).toBe(400);
      expect(await pointCount(store2, 'pm10')).toBe(200);
      // What writer 2 inserted is exactly what writer 1 had not: nothing was stored twice.
      expect(writer2.health().stored.inserted).toBe(200);
      expect(writer2.health().stored.revisions).toBe(0);
    } finally {
      await writer2.close();
      await store2.close();
      await nc2.close();
    }
  }, 60_000);
});
