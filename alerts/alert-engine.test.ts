import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.ts';
import type { CityError } from '../core/errors.ts';
import { silentLogger } from '../core/logger.ts';
import { PlatformEvents } from '../core/platform-events.ts';
import { KindCatalogue } from '../devices/kind-catalogue.ts';
import { closeAlertHarnesses, MIN, setup, T0, webhookReceiver } from '../test/helpers/alert-harness.ts';
import { makeTempDir } from '../test/helpers/temp-dir.ts';
import { AlertEngine } from './alert-engine.ts';

const logger = silentLogger();

afterEach(closeAlertHarnesses);

describe('series threshold', () => {
  it('opens after the condition held for the duration by reading time, is acknowledged, then clears', async () => {
    const h = await setup();
    const hook = await webhookReceiver();
    const a = await h.device('Harbour');
    const b = await h.device('Harbour');
    await h.engine.createRule(
      {
        name: 'PM2.5 high',
        condition: {
          kind: 'series-threshold',
          scope: 'district',
          metric: 'pm25',
          op: '>',
          value: 25,
          forMinutes: 60,
          clearForMinutes: 0,
        },
        webhookUrl: hook.url,
      },
      'ops',
    );
    h.clock.set(T0 + 2 * 60 * MIN);
    await h.send(a, T0, { pm25: 30 });
    await h.send(b, T0, { pm25: 28 });
    await h.send(a, T0 + 30 * MIN, { pm25: 35 });
    expect((await h.engine.list({ state: 'active' })).total).toBe(0);
    // District mean (40 + 28) / 2 = 34 > 25 at T0 + 60 min: held for 60 minutes of reading time.
    await h.send(a, T0 + 60 * MIN, { pm25: 40 });
    const [alert] = (await h.engine.list({ state: 'open' })).items;
    expect(alert).toMatchObject({ subject: 'Harbour', subjectKind: 'district', state: 'open', value: 34 });
    expect((await hook.next()).event).toBe('opened');
    // Still above: no second alert.
    await h.send(b, T0 + 61 * MIN, { pm25: 30 });
    expect((await h.engine.list()).total).toBe(1);

    const acked = await h.engine.acknowledge(alert!.id, 'night shift');
    expect(acked).toMatchObject({
      state: 'acknowledged',
      acknowledgedBy: 'night shift',
      acknowledgedAt: h.clock.now(),
    });
    await expect(h.engine.acknowledge(alert!.id, 'again')).rejects.toThrow(
      expect.objectContaining({ code: 'API_CONFLICT' }),
    );

    // Mean (5 + 10) / 2 = 7.5: below, cleared by the condition.
    await h.send(a, T0 + 70 * MIN, { pm25: 5 });
    await h.send(b, T0 + 70 * MIN, { pm25: 10 });
    expect(await h.engine.get(alert!.id)).toMatchObject({ state: 'cleared', clearedBy: 'condition' });
    const cleared = await hook.next();
    expect(cleared).toMatchObject({ event: 'cleared', alert: { id: alert!.id, state: 'cleared' } });
    expect(h.changes.map((c) => c.state)).toEqual(['open', 'acknowledged', 'cleared']);
    await h.engine.drainWebhooks();
    expect(h.engine.webhookCounters).toMatchObject({ sent: 2, failed: 0 });
  });

  it('evaluates each device on its own and ignores readings older than the newest', async () => {
    const h = await setup();
    const a = await h.device();
    const b = await h.device();
    await h.engine.createRule(
      {
        name: 'NO2',
        condition: {
          kind: 'series-threshold',
          scope: 'device',
          metric: 'no2',
          op: '>',
          value: 100,
          forMinutes: 0,
        },
      },
      'ops',
    );
    h.clock.set(T0 + 10 * MIN);
    await h.send(a, T0 + 5 * MIN, { no2: 150 });
    await h.send(b, T0 + 5 * MIN, { no2: 20 });
    // A late reading below the threshold does not clear what a newer reading opened.
    await h.send(a, T0, { no2: 10 });
    const items = (await h.engine.list({ state: 'active' })).items;
    expect(items.map((i) => i.subject)).toEqual([a]);
  });
});

describe('state survives a restart', () => {
  it('keeps rules, active alerts and acknowledgements', async () => {
    const h = await setup();
    const a = await h.device();
    await h.engine.createRule(
      {
        name: 'NO2',
        condition: {
          kind: 'series-threshold',
          scope: 'city',
          metric: 'no2',
          op: '>',
          value: 100,
          forMinutes: 0,
          clearForMinutes: 0,
        },
      },
      'ops',
    );
    await h.send(a, T0, { no2: 150 });
    const [alert] = (await h.engine.list()).items;
    await h.engine.acknowledge(alert!.id, 'day shift');
    await h.reopenEngine();
    expect(h.engine.rules().map((r) => r.name)).toEqual(['NO2']);
    expect(await h.engine.get(alert!.id)).toMatchObject({
      state: 'acknowledged',
      acknowledgedBy: 'day shift',
    });
    // Still above after the restart: the same alert stays, no duplicate; then it clears.
    await h.send(a, T0 + MIN, { no2: 160 });
    expect((await h.engine.list()).total).toBe(1);
    await h.send(a, T0 + 2 * MIN, { no2: 50 });
    expect((await h.engine.get(alert!.id)).state).toBe('cleared');
  });

  it('refuses a foreign alerts.db with STORE_CORRUPT', async () => {
    const dir = makeTempDir('cm-alerts-corrupt-');
    const db = new Database(dir.file('alerts.db'));
    db.pragma('application_id = 42');
    db.close();
    const events = new PlatformEvents();
    const kinds = new KindCatalogue();
    let caught: unknown;
    try {
      AlertEngine.open({
        dataDir: dir.path,
        cityName: 'x',
        events,
        registry: { list: () => ({ items: [], total: 0 }) },
        kinds,
        ingest: { stats: () => ({}) },
        clock: new ManualClock(T0),
        logger,
      });
    } catch (err) {
      caught = err;
    }
    dir.remove();
    expect((caught as CityError).code).toBe('STORE_CORRUPT');
  });
});

describe('checks on the tick', () => {
  it('opens a stale-device alert after N intervals without a reading, clears it when one arrives', async () => {
    const h = await setup();
    const a = await h.device();
    await h.engine.createRule({ name: 'Silent', condition: { kind: 'stale-device', intervals: 5 } }, 'ops');
    h.clock.set(T0 + 4 * MIN);
    h.engine.tick();
    expect((await h.engine.list()).total).toBe(0);
    h.clock.set(T0 + 6 * MIN); // air-quality interval is 60 s: 6 min > 5 intervals
    h.engine.tick();
    expect((await h.engine.list({ state: 'open' })).items).toMatchObject([
      { subject: a, subjectKind: 'device' },
    ]);
    await h.send(a, h.clock.now(), { pm25: 3 });
    h.engine.tick();
    expect((await h.engine.list({ state: 'cleared' })).total).toBe(1);
  });

  it('checks when the clock reaches each check interval, not a millisecond before', async () => {
    const h = await setup({}, { checkIntervalMs: MIN });
    const a = await h.device();
    await h.engine.createRule({ name: 'Silent', condition: { kind: 'stale-device', intervals: 5 } }, 'ops');
    // The checks are due every minute from T0; on the way here the one due at T0 + 1 min runs, too early.
    h.clock.set(T0 + 6 * MIN - 1);
    // Silent for more than 5 intervals already, but no check has run since T0 + 1 min.
    expect((await h.engine.list()).total).toBe(0);
    h.clock.advance(1);
    expect((await h.engine.list({ state: 'open' })).items).toMatchObject([
      { subject: a, subjectKind: 'device', openedAt: T0 + 6 * MIN },
    ]);
  });

  it('opens a refused-spike alert and clears it once the minute has passed and 5 quiet minutes more', async () => {
    const h = await setup();
    const a = await h.device();
    await h.engine.createRule(
      { name: 'Refusals', condition: { kind: 'refused-spike', perMinute: 2 } },
      'ops',
    );
    for (let i = 0; i < 3; i++) await h.ingest.submit(a, 'telemetry', Buffer.from('{not json'));
    h.engine.tick();
    expect((await h.engine.list({ state: 'open' })).items).toMatchObject([{ subject: 'ingest', value: 3 }]);
    h.clock.advance(61_000);
    h.engine.tick();
    expect((await h.engine.list({ state: 'open' })).total).toBe(1); // quiet, but not yet for clearForMinutes (5)
    h.clock.advance(5 * MIN);
    h.engine.tick();
    expect((await h.engine.list({ state: 'cleared' })).total).toBe(1);
  });

  it('opens a store-backlog alert while the store falls behind', async () => {
    const h = await setup({ startPaused: true });
    const a = await h.device();
    await h.engine.createRule({ name: 'Backlog', condition: { kind: 'store-backlog', values: 2 } }, 'ops');
    for (let i = 0; i < 4; i++) await h.send(a, T0 - i * MIN, { pm25: 1 });
    h.engine.tick();
    expect((await h.engine.list({ state: 'open' })).items).toMatchObject([{ subject: 'store' }]);
    h.ingest.resumeStoreWrites();
    await h.ingest.drain();
    h.engine.tick();
    expect((await h.engine.list({ state: 'open' })).total).toBe(1);
    h.clock.advance(5 * MIN);
    h.engine.tick();
    expect((await h.engine.list({ state: 'cleared' })).total).toBe(1);
  });
});

describe('rules', () => {
  it('validates input, evaluates KPI thresholds, and clears the alerts of a deleted rule', async () => {
    const h = await setup();
    await expect(
      h.engine.createRule(
        // @ts-expect-error: op must be > or <
        { name: 'bad', condition: { kind: 'kpi-threshold', code: 'EN: EN: AQ: 1C', op: '>=', value: 1 } },
        'ops',
      ),
    ).rejects.toThrow();
    const rule = await h.engine.createRule(
      { name: 'Air KPI', condition: { kind: 'kpi-threshold', code: 'EN-EN-AQ-1C', op: '>', value: 10 } },
      'ops',
    );
    h.events.emit('kpi-updated', {
      code: 'EN: EN: AQ: 1C',
      periodKind: 'year-to-date',
      value: { value: 50 },
      score: null,
    });
    expect((await h.engine.list()).total).toBe(0); // another period kind
    h.events.emit('kpi-updated', {
      code: 'EN: EN: AQ: 1C',
      periodKind: 'month-to-date',
      value: { value: 50 },
      score: null,
    });
    const [alert] = (await h.engine.list({ state: 'open' })).items;
    expect(alert).toMatchObject({ subject: 'EN: EN: AQ: 1C', subjectKind: 'kpi' });
    await h.engine.deleteRule(rule.id, 'admin');
    expect(await h.engine.get(alert!.id)).toMatchObject({
      state: 'cleared',
      clearedBy: 'rule deleted by admin',
    });
    expect(h.engine.rules()).toEqual([]);
    await expect(h.engine.deleteRule(rule.id, 'admin')).rejects.toThrow(
      expect.objectContaining({ code: 'API_NOT_FOUND' }),
    );
  });
});
