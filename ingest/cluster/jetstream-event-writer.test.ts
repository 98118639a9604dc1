import { Client as PgClient } from 'pg';
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { silentLogger } from '../../core/logger.ts';
import { type NatsTestCluster, natsServerBinary, startNats } from '../../test/servers/nats.ts';
import { type PostgresTestServer, postgresBinDir, startPostgres } from '../../test/servers/postgres.ts';
import { connectNats, edgeFixture, T0, testLog, until } from './cluster-fixture.ts';
import { EventMirror } from './event-mirror.ts';
import { JetStreamEventWriter } from './jetstream-event-writer.ts';
import { PostgresDeviceEvents } from './postgres-device-events.ts';
import { ensureReadingsStream } from './readings-stream.ts';

/**
 * Device events in a cluster: an edge logs them to JetStream, a writer stores them in PostgreSQL, and a kpi
 * or api node's mirror reads them as the single process reads its log, hearing of new ones by NOTIFY.
 */

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

const event = (ts: number, type: string, data?: Record<string, unknown>) =>
  Buffer.from(JSON.stringify({ ts, type, ...(data ? { data } : {}) }));

describe.skipIf(natsBinary === null || pgBin === null)('device events from the log into PostgreSQL', () => {
  it('stores each event once, and a mirror reads them by time, device and type', async () => {
    const log = testLog();
    const url = await pg.createDatabase();
    const nc = await connectNats(nats.urls);
    const edge = edgeFixture(nc, log);
    await ensureReadingsStream(await nc.jetstreamManager(), log);
    const [a, b] = await edge.devices(2);
    const mirror = await EventMirror.open({ url, logger: silentLogger(), now: () => T0 });
    const heard = vi.fn();
    mirror.onChange(heard);
    const stores: PostgresDeviceEvents[] = [];
    const writer = async (consumer: string) => {
      const events = await PostgresDeviceEvents.open({ url, logger: silentLogger() });
      stores.push(events);
      const w = new JetStreamEventWriter(
        { nc, events, logger: silentLogger() },
        { log, consumer, batchWaitMs: 10 },
      );
      await w.start();
      return w;
    };
    const first = await writer('events-a');
    onTestFinished(async () => {
      await mirror.close();
      for (const s of stores) await s.close();
      await edge.close();
      await nc.close();
    });

    for (const [id, ts, type, data] of [
      [a!, T0 - 60_000, 'calibration', { feeder: 'F1' }],
      [a!, T0 - 30_000, 'maintenance', undefined],
      [b!, T0 - 45_000, 'calibration', undefined],
    ] as const) {
      const r = await edge.sink.submit(id, 'events', event(ts, type, data));
      expect(r.ok, JSON.stringify(r)).toBe(true);
    }
    // Polled every turn of the event loop: the events become visible together with the announcement,
    // never before it (a KPI engine told late would compute on events it was not told of).
    const deadline = Date.now() + 20_000;
    while (mirror.size < 3 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    expect(mirror.size).toBe(3);
    expect(heard).toHaveBeenCalled();
    expect(first.stats).toMatchObject({ stored: 3, duplicates: 0, unreadable: 0 });
    expect(mirror.queryEvents({ from: T0 - 3_600_000, to: T0 })).toEqual([
      expect.objectContaining({ deviceId: a, type: 'calibration', ts: T0 - 60_000, data: { feeder: 'F1' } }),
      expect.objectContaining({ deviceId: b, type: 'calibration', ts: T0 - 45_000, data: null }),
      expect.objectContaining({ deviceId: a, type: 'maintenance', ts: T0 - 30_000 }),
    ]);
    expect(mirror.queryEvents({ from: T0 - 3_600_000, to: T0, deviceIds: [b!] })).toHaveLength(1);
    expect(mirror.queryEvents({ from: T0 - 3_600_000, to: T0, types: ['maintenance'] })).toHaveLength(1);
    expect(mirror.queryEvents({ from: T0 - 40_000, to: T0 - 30_000 })).toHaveLength(0);

    // A second writer reading every event again (another consumer name): the same rows, not new ones.
    const second = await writer('events-b');
    await until('the second writer to have read them', () => second.stats.duplicates === 3);
    expect(second.stats.stored).toBe(0);
    expect((await pg.query('SELECT count(*)::int AS n FROM device_events', url)).rows).toEqual([{ n: 3 }]);
    expect(mirror.size).toBe(3);
    await first.close();
    await second.close();
  }, 60_000);

  it('a mirror takes an event whose seq committed after a higher one', async () => {
    const url = await pg.createDatabase();
    const events = await PostgresDeviceEvents.open({ url, logger: silentLogger() });
    const mirror = await EventMirror.open({ url, logger: silentLogger(), now: () => T0 });
    const slow = new PgClient({ connectionString: url });
    await slow.connect();
    onTestFinished(async () => {
      await slow.end();
      await mirror.close();
      await events.close();
    });
    const base = { kind: 'air-quality-station', district: 'D1', data: null, receivedAt: T0 };
    // A writer's transaction takes seq 1 and has not committed...
    await slow.query('BEGIN');
    await slow.query(
      `INSERT INTO device_events (device_id, kind, district, type, ts, data, received_at)
       VALUES ('aq-1', 'air-quality-station', 'D1', 'calibration', $1, NULL, $2)`,
      [T0 - 60_000, T0],
    );
    // ...while another writer's seq 2 commits and is read.
    await events.insert([{ ...base, deviceId: 'aq-2', type: 'maintenance', ts: T0 - 30_000 }]);
    await until('the mirror to hold the committed one', () => mirror.size === 1);
    await slow.query('COMMIT');
    await mirror.catchUp();
    expect(mirror.queryEvents({ from: T0 - 3_600_000, to: T0 }).map((e) => e.deviceId)).toEqual([
      'aq-1',
      'aq-2',
    ]);
    // read again on the next catch-up, not held twice
    await mirror.catchUp();
    expect(mirror.size).toBe(2);
  }, 30_000);
});
