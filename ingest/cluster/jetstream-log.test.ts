import type { NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { CityError } from '../../core/errors.ts';
import { silentLogger } from '../../core/logger.ts';
import { type NatsTestCluster, natsServerBinary, startNats } from '../../test/servers/nats.ts';
import { SqliteSeriesStore } from '../store/sqlite-series-store.ts';
import { sqliteStoreOptions } from '../store/sqlite-store-fixture.ts';
import {
  connectNats,
  type EdgeFixture,
  edgeFixture,
  pointCount,
  reading,
  T0,
  testLog,
  until,
} from './cluster-fixture.ts';
import { buildJetStreamWriter, type JetStreamWriter } from './jetstream-writer.ts';
import { readingsSubject } from './log-message.ts';
import { ensureReadingsStream } from './readings-stream.ts';

const binary = natsServerBinary();
let nats: NatsTestCluster;

beforeAll(async () => {
  if (binary !== null) nats = await startNats(1, binary);
}, 30_000);
afterAll(async () => {
  await nats?.destroy();
});

interface Setup {
  nc: NatsConnection;
  edge: EdgeFixture;
  store: SqliteSeriesStore;
  writer: JetStreamWriter;
  log: ReturnType<typeof testLog>;
}

async function setup(publishTimeoutMs = 5_000): Promise<Setup> {
  const log = testLog();
  const nc = await connectNats(nats.urls);
  const edge = edgeFixture(nc, log, { publishTimeoutMs });
  const store = SqliteSeriesStore.open(sqliteStoreOptions(edge.dir.file('series.db'), { clock: edge.clock }));
  await ensureReadingsStream(await nc.jetstreamManager(), log);
  const writer = buildJetStreamWriter({ nc, store, logger: silentLogger() }, { log, batchMaxWaitMs: 20 });
  await writer.start();
  onTestFinished(async () => {
    await writer.close();
    await store.close();
    await edge.close();
    await nc.close();
  });
  return { nc, edge, store, writer, log };
}

describe.skipIf(binary === null)('JetStream log on a nats-server', () => {
  it('stores every acknowledged reading once; a resend is dropped by the stream, a revision is logged', async () => {
    const { nc, edge, store, writer, log } = await setup();
    const devices = await edge.devices(5);
    const perDevice = 40;
    const results = await Promise.all(
      devices.flatMap((id) =>
        Array.from({ length: perDevice }, (_, i) => edge.sink.submit(id, 'telemetry', reading(i))),
      ),
    );
    const total = devices.length * perDevice;
    expect(results.filter((r) => r.ok)).toHaveLength(total);
    await until('the writer to store every message', () => writer.health().stored.messages === total);
    expect(await pointCount(store, 'pm25')).toBe(total);
    expect(await pointCount(store, 'pm10')).toBe(total);
    expect(writer.health()).toMatchObject({
      ok: true,
      waitingFor: null,
      stored: { messages: total, inserted: 2 * total, duplicates: 0, revisions: 0 },
    });

    // The device did not get its PUBACK and sends the same message again: acknowledged, not logged twice.
    const jsm = await nc.jetstreamManager();
    expect(await edge.sink.submit(devices[0]!, 'telemetry', reading(0))).toEqual({ ok: true, accepted: 2 });
    expect(edge.sink.stats().duplicates).toBe(1);
    expect((await jsm.streams.info(log.stream)).state.messages).toBe(total);

    // Same metric and ts, another value: another message, a revision in the store, still one point.
    expect((await edge.sink.submit(devices[0]!, 'telemetry', reading(0, 99))).ok).toBe(true);
    expect((await jsm.streams.info(log.stream)).state.messages).toBe(total + 1);
    await until('the revision to be stored', () => writer.health().stored.revisions === 2);
    expect(await pointCount(store, 'pm25')).toBe(total);
    const latest = await store.latest(devices[0]!);
    expect(latest.find((v) => v.metric === 'pm25')).toEqual({ metric: 'pm25', ts: T0 - 1000, value: 99 });
  }, 60_000);

  it('refuses with the single-process codes and counts refusals from the gateway', async () => {
    const { edge } = await setup();
    const [id] = await edge.devices(1);
    const refused: string[] = [];
    edge.events.on('refused', (r) => refused.push(r.code));
    const unknown = await edge.sink.submit('nobody', 'telemetry', reading(0));
    const bad = await edge.sink.submit(id!, 'telemetry', Buffer.from('{"ts":'));
    edge.sink.countRefusal(id!, 'GATEWAY_RATE_LIMITED');
    expect([unknown, bad].map((r) => (r.ok ? 'ok' : r.error.code))).toEqual([
      'INGEST_UNKNOWN_DEVICE',
      'INGEST_MALFORMED_JSON',
    ]);
    expect(refused).toEqual(['INGEST_UNKNOWN_DEVICE', 'INGEST_MALFORMED_JSON', 'GATEWAY_RATE_LIMITED']);
    expect(edge.sink.stats().refused).toEqual({
      total: 3,
      byReason: { INGEST_UNKNOWN_DEVICE: 1, INGEST_MALFORMED_JSON: 1, GATEWAY_RATE_LIMITED: 1 },
    });
    // An event goes to the log too; its resend (same type and ts) is acknowledged and not announced again.
    const announced: string[] = [];
    edge.events.on('device-event', (e) => announced.push(e.type));
    const calibration = Buffer.from(JSON.stringify({ ts: T0 - 60_000, type: 'calibration' }));
    expect(await edge.sink.submit(id!, 'events', calibration)).toEqual({ ok: true, accepted: 1 });
    expect(await edge.sink.submit(id!, 'events', calibration)).toEqual({ ok: true, accepted: 1 });
    expect(announced).toEqual(['calibration']);
  }, 30_000);

  it('answers retryable INGEST_LOG_UNAVAILABLE while JetStream is down, and logs again once it is back', async () => {
    const { edge, store, writer } = await setup(1_000);
    const [id] = await edge.devices(1);
    expect((await edge.sink.submit(id!, 'telemetry', reading(0))).ok).toBe(true);
    await nats.nodes[0]!.stop('SIGKILL');
    try {
      const down = await edge.sink.submit(id!, 'telemetry', reading(1));
      expect(down.ok).toBe(false);
      const error = (down as { error: CityError }).error;
      expect(error).toBeInstanceOf(CityError);
      expect([error.code, error.retryable, error.httpStatus]).toEqual(['INGEST_LOG_UNAVAILABLE', true, 503]);
      expect(edge.sink.stats().refused.byReason).toEqual({ INGEST_LOG_UNAVAILABLE: 1 });
    } finally {
      await nats.nodes[0]!.start();
    }
    // The device resends until it gets its PUBACK, as it would after the refusal.
    await until(
      'a submit to succeed after the restart',
      async () => (await edge.sink.submit(id!, 'telemetry', reading(1))).ok,
    );
    await until('the writer to store both readings', async () => (await pointCount(store)) === 2);
    // A SIGKILLed server may forget a message id (and the writer's ack) it had not fsynced: a resend can
    // then reach the writer twice. It is counted as a duplicate, never stored as a second point.
    const { duplicates, inserted } = writer.health().stored;
    expect(await pointCount(store)).toBe(2);
    // values: what was inserted is the two readings' values, a second copy of either only a duplicate
    expect(duplicates).toBeLessThanOrEqual(inserted);
  }, 60_000);

  it('refuses a stream made with another shard count, naming the fix; concurrent creation is fine', async () => {
    const { nc, log } = await setup();
    const jsm = await nc.jetstreamManager();
    let caught: unknown;
    try {
      await ensureReadingsStream(jsm, { ...log, shards: log.shards + 1 });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(CityError);
    expect((caught as CityError).code).toBe('INGEST_LOG_MISCONFIGURED');
    expect((caught as CityError).message).toContain(`nats stream rm ${log.stream}`);
    // Two nodes starting at once both find the stream they need, whichever created it.
    const fresh = testLog();
    const other = await connectNats(nats.urls);
    try {
      const infos = await Promise.all([
        ensureReadingsStream(jsm, fresh),
        ensureReadingsStream(await other.jetstreamManager(), fresh),
      ]);
      expect(infos.map((i) => i.config.name)).toEqual([fresh.stream, fresh.stream]);
    } finally {
      await other.close();
    }
  }, 30_000);

  it('hands a message of a newer release back for a writer of that release, and takes out only a broken one', async () => {
    const { nc, writer, log } = await setup();
    const js = nc.jetstream();
    const newer = { v: 2, d: 'aq-9', k: 'air-quality-station', s: 'D1', x: [['pm25', T0, 12]], more: true };
    await js.publish(readingsSubject(log, 0), Buffer.from(JSON.stringify(newer)), { msgID: 'newer-1' });
    await js.publish(readingsSubject(log, 0), Buffer.from('{"v":1,"broken":'), { msgID: 'broken-1' });
    await until('the writer to have seen both', () => {
      const h = writer.health();
      return h.newerFormat === 1 && h.unreadable === 1;
    });
    // The newer one is still the stream's to deliver (waiting for its redelivery), the broken one is not.
    const jsm = await nc.jetstreamManager();
    let pending = 0;
    for await (const c of jsm.consumers.list(log.stream)) pending += c.num_ack_pending + c.num_pending;
    expect(pending).toBe(1);
    expect(writer.health().stored.messages).toBe(0);
  });
});
