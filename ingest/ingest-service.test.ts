import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { CityCalendar } from '../core/city-calendar.ts';
import { ManualClock } from '../core/clock.ts';
import { type ConfigInput, testConfig } from '../core/config.ts';
import type { Logger } from '../core/logger.ts';
import { silentLogger } from '../core/logger.ts';
import { type MessageRefused, PlatformEvents, type ReadingsRevised } from '../core/platform-events.ts';
import { createTelemetry } from '../core/telemetry.ts';
import { KindCatalogue } from '../devices/kind-catalogue.ts';
import { DeviceRegistry } from '../devices/registry.ts';
import { makeTempDir, type TempDir } from '../test/helpers/temp-dir.ts';
import { IngestService, type IngestServiceOptions } from './ingest-service.ts';
import { SqliteSeriesStore } from './store/sqlite-series-store.ts';

/** 10 ppb of NO2 (46.0055 g/mol) in µg/m³ at 20 °C and 101.325 kPa: 10 · M ÷ (R·T/P), about 19.125. */
const NO2_10_PPB = (10 * 46.0055) / ((8.314462618 * 293.15) / 101.325);

const T0 = Date.UTC(2026, 2, 15, 12, 0, 0);
const MIN = 60_000;
const HOUR = 3_600_000;
const AIR = 'air-quality-station';
const json = (x: unknown) => Buffer.from(JSON.stringify(x));

interface Harness {
  dir: TempDir;
  clock: ManualClock;
  events: PlatformEvents;
  telemetry: ReturnType<typeof createTelemetry>;
  registry: DeviceRegistry;
  store: SqliteSeriesStore;
  ingest: IngestService;
  device(kind?: string, district?: string): Promise<string>;
  reopen(options?: IngestServiceOptions): Promise<void>;
  close(): Promise<void>;
}

const harnesses: Harness[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.close();
});

async function setup(
  overrides: Partial<ConfigInput> = {},
  options: IngestServiceOptions = {},
  logger: Logger = silentLogger(),
): Promise<Harness> {
  const dir = makeTempDir('cm-ingest-');
  const clock = new ManualClock(T0);
  // Each message commits as it comes: the group commit's timer would wait for this clock to be moved, and
  // these tests stamp what they assert at T0 (durable-log.test.ts times the group commit).
  const config = testConfig({ dataDir: dir.path, logFlushMaxValues: 1, ...overrides });
  const openStore = () =>
    SqliteSeriesStore.open({
      file: dir.file('series.db'),
      calendar: new CityCalendar('UTC'),
      retention: { rawDays: 35, minuteDays: 14, hourDays: 400, dayDays: 3660 },
      logger,
      clock,
    });
  const registry = DeviceRegistry.open({
    dataDir: dir.path,
    kinds: new KindCatalogue(),
    clock,
    logger,
    scryptCost: 1024,
  });
  const events = new PlatformEvents();
  const telemetry = createTelemetry();
  const deps = () => ({ config, directory: registry, store: h.store, events, telemetry, logger, clock });
  const h: Harness = {
    dir,
    clock,
    events,
    telemetry,
    registry,
    store: openStore(),
    ingest: undefined as unknown as IngestService,
    async device(kind = AIR, district = 'Old Town') {
      return (
        await registry.provision({
          kind,
          district,
          attributes: kind === 'electricity-feeder-meter' ? { customersServed: 10 } : {},
          // installed a month before T0: readings stamped before T0 (late, back-filled) fall inside
          installedAt: T0 - 31 * 86_400_000,
        })
      ).device.id;
    },
    // A restart on the same data directory: new log, store and service objects.
    async reopen(reopenOptions = {}) {
      await h.ingest.close();
      await h.store.close();
      h.store = openStore();
      h.ingest = await IngestService.open(deps(), { pruneIntervalMs: 0, ...reopenOptions });
    },
    async close() {
      await h.ingest.close();
      await h.store.close();
      registry.close();
      dir.remove();
    },
  };
  h.ingest = await IngestService.open(deps(), { pruneIntervalMs: 0, ...options });
  harnesses.push(h);
  return h;
}

const minuteBuckets = (h: Harness, device: string, metric: string) =>
  h.store.query({ scope: { device }, metric, from: T0 - 2 * HOUR, to: T0 + HOUR, step: 'minute' });

describe('accepted readings', () => {
  it('go through the log into the store, with counters, events and last-seen', async () => {
    const h = await setup();
    const id = await h.device();
    const seen: unknown[] = [];
    h.events.on('readings', (r) => seen.push(r));
    const result = await h.ingest.submit(
      id,
      'telemetry',
      json({ ts: T0 - MIN, values: { pm25: 12.5, no2: { value: 10, unit: 'ppb' } } }),
    );
    expect(result).toEqual({ ok: true, accepted: 2 });
    await h.ingest.drain();
    const latest = await h.store.latest(id);
    expect(latest.find((v) => v.metric === 'pm25')).toEqual({ metric: 'pm25', ts: T0 - MIN, value: 12.5 });
    expect(latest.find((v) => v.metric === 'no2')?.value).toBeCloseTo(NO2_10_PPB, 9);
    expect(seen).toEqual([
      {
        deviceId: id,
        kind: AIR,
        district: 'Old Town',
        values: [
          { metric: 'pm25', ts: T0 - MIN, value: 12.5 },
          { metric: 'no2', ts: T0 - MIN, value: expect.closeTo(NO2_10_PPB, 9), fromUnit: 'ppb' },
        ],
      },
    ]);
    expect(h.registry.get(id)?.lastSeenAt).toBe(T0);
    const stats = h.ingest.stats();
    expect(stats).toMatchObject({
      accepted: { messages: 1, readings: 1, values: 2 },
      stored: { inserted: 2, duplicates: 0, revisions: 0 },
      backlog: 0,
    });
    expect(stats.rates.acceptedPerSec).toBe(0.1);
    expect(stats.store.ok).toBe(true);
    expect((await h.telemetry.valuesAccepted.get()).values[0]?.value).toBe(2);
    expect((await h.telemetry.readingsAccepted.get()).values[0]?.value).toBe(1);
    // The rate window is 10 s of the injected clock.
    h.clock.advance(11_000);
    expect(h.ingest.stats().rates.acceptedPerSec).toBe(0);
  });

  it('store a duplicate once and count it', async () => {
    const h = await setup();
    const id = await h.device();
    const msg = json({ ts: T0 - MIN, values: { pm25: 5 } });
    expect((await h.ingest.submit(id, 'telemetry', msg)).ok).toBe(true);
    await h.ingest.drain();
    expect((await h.ingest.submit(id, 'telemetry', msg)).ok).toBe(true);
    await h.ingest.drain();
    expect(h.ingest.stats().stored).toEqual({ inserted: 1, duplicates: 1, revisions: 0 });
    expect((await minuteBuckets(h, id, 'pm25')).map((b) => b.count)).toEqual([1]);
    const stored = await h.telemetry.valuesStored.get();
    expect(stored.values.find((v) => v.labels.outcome === 'duplicate')?.value).toBe(1);
  });

  it('count a revision, emit it, and let the new value win', async () => {
    const h = await setup();
    const id = await h.device();
    const revised: ReadingsRevised[] = [];
    h.events.on('readings-revised', (r) => revised.push(r));
    await h.ingest.submit(id, 'telemetry', json({ ts: T0 - MIN, values: { pm25: 5 } }));
    await h.ingest.drain();
    await h.ingest.submit(id, 'telemetry', json({ ts: T0 - MIN, values: { pm25: 7 } }));
    await h.ingest.drain();
    expect(h.ingest.stats().stored.revisions).toBe(1);
    expect(revised).toEqual([
      { revisions: [{ deviceId: id, metric: 'pm25', ts: T0 - MIN, previous: 5, value: 7 }], at: T0 },
    ]);
    expect(await h.store.latest(id)).toEqual([{ metric: 'pm25', ts: T0 - MIN, value: 7 }]);
  });

  it('let a late reading update its bucket, and "latest" stay the newest timestamp', async () => {
    const h = await setup();
    const id = await h.device('noise-monitor');
    const base = T0 - HOUR;
    await h.ingest.submit(id, 'telemetry', json({ ts: base, values: { laeq: 50 } }));
    await h.ingest.submit(id, 'telemetry', json({ ts: base + 5 * MIN, values: { laeq: 60 } }));
    await h.ingest.drain();
    await h.ingest.submit(id, 'telemetry', json([{ ts: base + 30_000, values: { laeq: 70 } }]));
    await h.ingest.drain();
    const minutes = await minuteBuckets(h, id, 'laeq');
    expect(minutes.map((b) => [b.t, b.count, b.mean])).toEqual([
      [base, 2, 60],
      [base + 5 * MIN, 1, 60],
    ]);
    const hour = await h.store.query({
      scope: { device: id },
      metric: 'laeq',
      from: base,
      to: base + HOUR,
      step: 'hour',
    });
    expect(hour[0]).toMatchObject({ count: 3, min: 50, max: 70, lastTs: base + 5 * MIN, last: 60 });
    expect(await h.store.latest(id)).toEqual([{ metric: 'laeq', ts: base + 5 * MIN, value: 60 }]);
  });
});

describe('refusals', () => {
  const cases: Array<{
    name: string;
    payload: unknown;
    channel?: 'telemetry' | 'events';
    unknownDevice?: boolean;
    code: string;
    field?: string;
  }> = [
    {
      name: 'unknown device',
      payload: { ts: T0, values: { pm25: 1 } },
      unknownDevice: true,
      code: 'INGEST_UNKNOWN_DEVICE',
    },
    { name: 'empty payload', payload: '', code: 'INGEST_EMPTY_PAYLOAD' },
    { name: 'malformed JSON', payload: '{"ts":', code: 'INGEST_MALFORMED_JSON' },
    {
      name: 'schema',
      payload: { ts: T0, values: { pm25: 'high' } },
      code: 'INGEST_SCHEMA',
      field: 'values.pm25',
    },
    {
      name: 'unknown metric',
      payload: { ts: T0, values: { pm25: 1, humidity: 3 } },
      code: 'INGEST_UNKNOWN_METRIC',
      field: 'values.humidity',
    },
    {
      name: 'unknown unit',
      payload: { ts: T0, values: { no2: { value: 1, unit: 'ppt' } } },
      code: 'INGEST_UNKNOWN_UNIT',
      field: 'values.no2.unit',
    },
    {
      name: 'out of range, all or nothing',
      payload: { ts: T0, values: { pm25: 1, pm10: -3 } },
      code: 'INGEST_OUT_OF_RANGE',
      field: 'values.pm10',
    },
    {
      name: 'future',
      payload: { ts: T0 + HOUR, values: { pm25: 1 } },
      code: 'INGEST_TS_FUTURE',
      field: 'ts',
    },
    {
      name: 'too old',
      payload: { ts: T0 - 30 * 24 * HOUR, values: { pm25: 1 } },
      code: 'INGEST_TS_TOO_OLD',
      field: 'ts',
    },
    {
      name: 'batch with one bad reading',
      payload: [
        { ts: T0, values: { pm25: 1 } },
        { ts: 'then', values: { pm25: 1 } },
      ],
      code: 'INGEST_TS_INVALID',
      field: '[1].ts',
    },
    {
      name: 'unknown event type',
      payload: { ts: T0, type: 'exploded' },
      channel: 'events',
      code: 'INGEST_UNKNOWN_EVENT',
      field: 'type',
    },
  ];

  it.each(cases)(
    '$name → $code, counted, announced, nothing stored',
    async ({ payload, channel, unknownDevice, code, field }) => {
      const h = await setup();
      const id = unknownDevice ? 'no-such-device' : await h.device();
      const refused: MessageRefused[] = [];
      h.events.on('refused', (r) => refused.push(r));
      const result = await h.ingest.submit(
        id,
        channel ?? 'telemetry',
        typeof payload === 'string' ? Buffer.from(payload) : json(payload),
      );
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.error.code).toBe(code);
      if (field !== undefined) expect(result.error.field).toBe(field);
      expect(refused).toEqual([{ deviceId: id, code, at: T0 }]);
      await h.ingest.drain();
      const stats = h.ingest.stats();
      expect(stats.refused).toEqual({ total: 1, byReason: { [code]: 1 } });
      expect(stats.accepted.messages).toBe(0);
      expect(stats.rates.refusedPerSec).toBe(0.1);
      expect((await h.telemetry.messagesRefused.get()).values).toEqual([
        expect.objectContaining({ labels: { reason: code }, value: 1 }),
      ]);
      if (!unknownDevice) expect(await h.store.latest(id)).toEqual([]);
      expect(h.ingest.queryEvents({ from: 0, to: T0 + HOUR })).toEqual([]);
    },
  );

  it('refuses readings and events outside the installed interval with their own code, counted per reason and device', async () => {
    const h = await setup();
    const { device } = await h.registry.provision({
      kind: AIR,
      district: 'Old Town',
      installedAt: T0 - 3 * HOUR,
    });
    await h.registry.decommission(device.id, { at: T0 - HOUR });
    const send = (ts: number, channel: 'telemetry' | 'events' = 'telemetry') =>
      h.ingest.submit(
        device.id,
        channel,
        json(channel === 'events' ? { ts, type: 'maintenance' } : { ts, values: { pm25: 4 } }),
      );
    const outcomes = [
      await send(T0 - 4 * HOUR), // before its installation
      await send(T0 - 3 * HOUR), // its first instant: inside
      await send(T0 - HOUR - 1), // its last millisecond: inside
      await send(T0 - HOUR), // its removal: outside (the end is exclusive)
      await send(T0 - 30 * 60_000, 'events'),
    ];
    expect(outcomes.map((o) => (o.ok ? 'ok' : o.error.code))).toEqual([
      'INGEST_OUTSIDE_INSTALLATION',
      'ok',
      'ok',
      'INGEST_OUTSIDE_INSTALLATION',
      'INGEST_OUTSIDE_INSTALLATION',
    ]);
    const first = outcomes[0]!;
    if (first.ok) throw new Error('refused above');
    expect(first.error).toMatchObject({ field: 'ts', retryable: false });
    expect(first.error.message).toContain(
      `[${new Date(T0 - 3 * HOUR).toISOString()}, ${new Date(T0 - HOUR).toISOString()})`,
    );
    await h.ingest.drain();
    expect(h.ingest.stats().refused).toEqual({ total: 3, byReason: { INGEST_OUTSIDE_INSTALLATION: 3 } });
    expect(h.ingest.devices.get(device.id)?.refused).toEqual({
      total: 3,
      byReason: { INGEST_OUTSIDE_INSTALLATION: 3 },
    });
    const stored = await h.store.aggregate({
      scope: { device: device.id },
      metric: 'pm25',
      from: 0,
      to: T0 + HOUR,
    });
    expect(stored?.count).toBe(2);
  });

  it('countRefusal counts gateway refusals in the same place', async () => {
    const h = await setup();
    h.ingest.countRefusal(null, 'GATEWAY_BAD_CREDENTIALS');
    h.ingest.countRefusal('x', 'GATEWAY_RATE_LIMITED');
    h.ingest.countRefusal('x', 'GATEWAY_RATE_LIMITED');
    expect(h.ingest.stats().refused).toEqual({
      total: 3,
      byReason: { GATEWAY_BAD_CREDENTIALS: 1, GATEWAY_RATE_LIMITED: 2 },
    });
  });
});

describe('device events', () => {
  it('are logged, kept for queries, announced once and deduped', async () => {
    const h = await setup();
    const id = await h.device('electricity-smart-meter', 'Harbour');
    const announced: unknown[] = [];
    h.events.on('device-event', (e) => announced.push(e));
    const outage = json({ ts: T0 - 10 * MIN, type: 'outage_start', data: { cause: 'storm' } });
    expect(await h.ingest.submit(id, 'events', outage)).toEqual({ ok: true, accepted: 1 });
    expect(await h.ingest.submit(id, 'events', outage)).toEqual({ ok: true, accepted: 1 });
    await h.ingest.submit(id, 'events', json({ ts: T0 - MIN, type: 'restore' }));
    expect(announced).toEqual([
      {
        deviceId: id,
        kind: 'electricity-smart-meter',
        district: 'Harbour',
        type: 'outage_start',
        ts: T0 - 10 * MIN,
        data: { cause: 'storm' },
      },
      { deviceId: id, kind: 'electricity-smart-meter', district: 'Harbour', type: 'restore', ts: T0 - MIN },
    ]);
    const all = h.ingest.queryEvents({ deviceIds: [id], from: T0 - HOUR, to: T0 });
    expect(all.map((e) => [e.type, e.ts])).toEqual([
      ['outage_start', T0 - 10 * MIN],
      ['restore', T0 - MIN],
    ]);
    expect(h.ingest.queryEvents({ types: ['restore'], from: T0 - HOUR, to: T0 })).toHaveLength(1);
    expect(h.ingest.stats().accepted.messages).toBe(3);
  });
});

describe('log retention', () => {
  it('prunes the log when the clock reaches a prune interval, not a millisecond before', async () => {
    const h = await setup({ retentionLogDays: 8 }, { pruneIntervalMs: HOUR });
    const id = await h.device();
    await h.ingest.submit(id, 'telemetry', json({ ts: T0 - MIN, values: { pm25: 1 } }));
    await h.ingest.drain();
    const messages = () => {
      const db = new Database(h.dir.file('log.db'), { readonly: true });
      try {
        return db.prepare('SELECT count(*) FROM log').pluck().get();
      } finally {
        db.close();
      }
    };
    // Received at T0 and in the store, the message may go at a prune later than T0 + 8 days. The prunes
    // are due hourly from T0: on the way to 8 days, the one due at T0 + 1 h runs (once), too early.
    h.clock.set(T0 + 192 * HOUR);
    await h.ingest.pruneLog(); // the prune that move started, finished
    expect(messages()).toBe(1);
    h.clock.advance(HOUR - 1);
    expect(messages()).toBe(1);
    h.clock.advance(1); // T0 + 8 days + 1 h: the next prune is due
    expect(messages()).toBe(0);
  });
});

describe('crash recovery', () => {
  it('replays what the log holds beyond materialized_seq into the store, exactly once', async () => {
    const h = await setup({}, { startPaused: true });
    const id = await h.device();
    for (let i = 0; i < 5; i++) {
      expect(
        (
          await h.ingest.submit(
            id,
            'telemetry',
            json({ ts: T0 - (i + 1) * MIN, values: { pm25: i, pm10: i } }),
          )
        ).ok,
      ).toBe(true);
    }
    expect(h.ingest.stats().backlog).toBe(10);
    // The process stops before the store got anything: acknowledged values are only in the log.
    expect(await h.ingest.close()).toEqual({ unsaved: 10 });
    await h.reopen();
    await h.ingest.drain();
    expect(h.ingest.stats()).toMatchObject({
      backlog: 0,
      stored: { inserted: 10, duplicates: 0, revisions: 0 },
    });
    expect((await minuteBuckets(h, id, 'pm25')).map((b) => b.count)).toEqual([1, 1, 1, 1, 1]);
  });

  it('is idempotent when the store already had a batch whose materialized_seq was not saved', async () => {
    const h = await setup();
    const id = await h.device();
    await h.ingest.submit(id, 'telemetry', json({ ts: T0 - MIN, values: { pm25: 1, pm10: 2 } }));
    await h.ingest.drain();
    await h.ingest.close();
    // A crash between the store write and the meta update leaves materialized_seq behind.
    const db = new Database(h.dir.file('log.db'));
    db.prepare("UPDATE meta SET value = 0 WHERE key = 'materialized_seq'").run();
    db.close();
    await h.reopen();
    await h.ingest.drain();
    expect(h.ingest.stats().stored).toEqual({ inserted: 0, duplicates: 2, revisions: 0 });
    expect((await minuteBuckets(h, id, 'pm10')).map((b) => b.count)).toEqual([1]);
  });
});

describe('backpressure and shutdown', () => {
  const settledFlag = <T>(p: Promise<T>) => {
    const flag = { settled: false };
    void p.then(() => {
      flag.settled = true;
    });
    return flag;
  };
  const turns = async (n: number) => {
    for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r));
  };

  it('submit waits while the backlog is past ingestMaxBacklogValues, and goes on once the store catches up', async () => {
    const h = await setup({ ingestMaxBacklogValues: 2 }, { startPaused: true });
    const id = await h.device();
    const send = (i: number) =>
      h.ingest.submit(id, 'telemetry', json({ ts: T0 - i * 1000, values: { pm25: i } }));
    for (let i = 1; i <= 3; i++) expect((await send(i)).ok).toBe(true);
    expect(h.ingest.stats().backlog).toBe(3);
    const fourth = send(4);
    const flag = settledFlag(fourth);
    await turns(20);
    expect(flag.settled).toBe(false);
    expect(h.ingest.stats().backlog).toBe(3); // not even logged: no PUBACK until the store drains
    h.ingest.resumeStoreWrites();
    expect(await fourth).toEqual({ ok: true, accepted: 1 });
    await h.ingest.drain();
    expect(h.ingest.stats()).toMatchObject({ backlog: 0, stored: { inserted: 4 } });
    expect((await h.telemetry.ingestBacklog.get()).values[0]?.value).toBe(0);
  });

  it('past the in-memory bound, drops its copy and re-reads the backlog from the log', async () => {
    const warnings: string[] = [];
    const lines = new Writable({
      write(chunk, _enc, done) {
        warnings.push(String(chunk));
        done();
      },
    });
    // In memory at most ingestMaxBacklogValues + logFlushMaxValues = 3 values.
    const h = await setup(
      { ingestMaxBacklogValues: 2, logFlushMaxValues: 1 },
      { startPaused: true, storeBatchMaxValues: 2 },
      pino({ level: 'warn' }, lines),
    );
    const id = await h.device();
    const values = { pm25: 1, pm10: 2, no2: 3, so2: 4, o3: 5 };
    expect(await h.ingest.submit(id, 'telemetry', json({ ts: T0 - MIN, values }))).toEqual({
      ok: true,
      accepted: 5,
    });
    expect(warnings.some((l) => l.includes('dropping the in-memory copy'))).toBe(true);
    h.ingest.resumeStoreWrites();
    await h.ingest.drain();
    expect(h.ingest.stats()).toMatchObject({ backlog: 0, stored: { inserted: 5, duplicates: 0 } });
    expect((await h.store.latest(id)).map((v) => v.value).sort()).toEqual([1, 2, 3, 4, 5]);
  });

  it('close refuses new and waiting submits with INGEST_SHUTTING_DOWN and reports what is not in the store', async () => {
    const h = await setup({ ingestMaxBacklogValues: 1 }, { startPaused: true, closeTimeoutMs: 1 });
    const id = await h.device();
    await h.ingest.submit(id, 'telemetry', json({ ts: T0 - 1000, values: { pm25: 1, pm10: 1 } }));
    const waiting = h.ingest.submit(id, 'telemetry', json({ ts: T0 - 2000, values: { pm25: 2 } }));
    expect(await h.ingest.close()).toEqual({ unsaved: 2 });
    expect(await waiting).toMatchObject({ ok: false, error: { code: 'INGEST_SHUTTING_DOWN' } });
    const late = await h.ingest.submit(id, 'telemetry', json({ ts: T0, values: { pm25: 3 } }));
    expect(late).toMatchObject({ ok: false, error: { code: 'INGEST_SHUTTING_DOWN', retryable: true } });
  });

  it('retries a failing store with back-off, keeps the data, and counts the failures', async () => {
    const failures: Array<() => void> = [];
    const lines = new Writable({
      write(chunk, _enc, done) {
        if (String(chunk).includes('series store write failed')) failures.shift()?.();
        done();
      },
    });
    const h = await setup({}, { retry: { baseMs: 1, maxMs: 4 } }, pino({ level: 'warn' }, lines));
    const id = await h.device();
    const failed = new Promise<void>((r) => failures.push(r));
    // Take the points table away under the store (another connection): its writes fail until it is back.
    const other = new Database(h.dir.file('series.db'));
    other.exec('ALTER TABLE points RENAME TO points_away');
    expect((await h.ingest.submit(id, 'telemetry', json({ ts: T0 - MIN, values: { pm25: 9 } }))).ok).toBe(
      true,
    );
    await failed;
    expect(h.ingest.stats().backlog).toBe(1);
    other.exec('ALTER TABLE points_away RENAME TO points');
    other.close();
    h.clock.advance(4); // the longest back-off: the next try is due
    await h.ingest.drain();
    expect(await h.store.latest(id)).toEqual([{ metric: 'pm25', ts: T0 - MIN, value: 9 }]);
    expect((await h.telemetry.storeWriteFailures.get()).values[0]?.value).toBeGreaterThanOrEqual(1);
    expect(h.ingest.stats().stored.inserted).toBe(1);
  });
});
