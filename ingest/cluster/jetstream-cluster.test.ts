import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.ts';
import { type NatsTestCluster, natsServerBinary, startNats } from '../../test/servers/nats.ts';
import { SqliteSeriesStore } from '../store/sqlite-series-store.ts';
import { sqliteStoreOptions } from '../store/sqlite-store-fixture.ts';
import { connectNats, edgeFixture, pointCount, reading, testLog, until } from './cluster-fixture.ts';
import { buildJetStreamWriter } from './jetstream-writer.ts';
import { ensureReadingsStream } from './readings-stream.ts';

const binary = natsServerBinary();
let nats: NatsTestCluster;

beforeAll(async () => {
  if (binary !== null) nats = await startNats(3, binary);
}, 30_000);
afterAll(async () => {
  await nats?.destroy();
});

describe.skipIf(binary === null)('JetStream log on a 3-node cluster, replicas 3', () => {
  it('stores every acknowledged submit once when the stream leader is SIGKILLed mid-stream', async () => {
    const log = testLog(3);
    const nc = await connectNats(nats.urls);
    const edge = edgeFixture(nc, log, { publishTimeoutMs: 2_000 });
    const store = SqliteSeriesStore.open(
      sqliteStoreOptions(edge.dir.file('series.db'), { clock: edge.clock }),
    );
    const jsm = await nc.jetstreamManager();
    await ensureReadingsStream(jsm, log);
    const writer = buildJetStreamWriter(
      { nc, store, logger: silentLogger() },
      { log, batchMaxWaitMs: 20, ackWaitMs: 5_000, retryDelayMs: 200, pullExpiresMs: 2_000 },
    );
    await writer.start();
    try {
      const devices = await edge.devices(4);
      const perDevice = 60;
      let acknowledged = 0;
      let refusedRetryable = 0;
      let killed: string | null = null;
      // Each device sends in order and resends a message until it is acknowledged, as MQTT QoS 1 does.
      const device = async (id: string) => {
        for (let i = 0; i < perDevice; i++) {
          const deadline = Date.now() + 30_000;
          for (;;) {
            const result = await edge.sink.submit(id, 'telemetry', reading(i));
            if (result.ok) break;
            expect(result.error.retryable).toBe(true);
            refusedRetryable++;
            if (Date.now() > deadline) throw new Error(`message ${i} of ${id} never acknowledged`);
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
          acknowledged++;
        }
      };
      const killLeader = async () => {
        await until('a third of the messages to be acknowledged', () => acknowledged >= 80);
        const leader = (await jsm.streams.info(log.stream)).cluster?.leader;
        expect(leader).toBeDefined();
        killed = leader!;
        await nats.node(killed).stop('SIGKILL');
      };
      await Promise.all([...devices.map(device), killLeader()]);
      const total = devices.length * perDevice;
      expect(acknowledged).toBe(total);
      expect(killed).not.toBeNull();

      await until(
        'every acknowledged reading in the store',
        async () => (await pointCount(store)) === total,
        40_000,
      );
      expect(await pointCount(store, 'pm10')).toBe(total);
      // One message per reading in the stream: resends after the failover were recognised by message id.
      const info = await jsm.streams.info(log.stream);
      expect(info.state.messages).toBe(total);
      expect(info.cluster?.leader).not.toBe(killed);
      expect(writer.health().stored.revisions).toBe(0);
      console.info(
        `cluster failover: ${refusedRetryable} retryable refusals, ${writer.health().stored.duplicates} store duplicates`,
      );
    } finally {
      await writer.close();
      await store.close();
      await edge.close();
      await nc.close();
    }
  }, 90_000);
});
