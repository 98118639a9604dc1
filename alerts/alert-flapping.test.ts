import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAlertHarnesses, MIN, setup, T0 } from '../test/helpers/alert-harness.ts';
import { ALERT_TIMING_DEFAULTS } from './alert-types.ts';
import { ALERTS_APPLICATION_ID } from './sqlite-alert-records.ts';

afterEach(closeAlertHarnesses);

const pm25Rule = (extra: Record<string, number> = {}) => ({
  name: 'PM2.5 high',
  condition: {
    kind: 'series-threshold' as const,
    scope: 'device' as const,
    metric: 'pm25',
    op: '>' as const,
    value: 25,
    ...extra,
  },
});

describe('alerts that do not flap', () => {
  it('a value oscillating around the threshold opens one alert, with the default rule timing', async () => {
    const h = await setup();
    const a = await h.device();
    await h.engine.createRule(pm25Rule(), 'ops');
    h.clock.set(T0 + 3 * 60 * MIN);
    // Ten minutes above, then two hours swinging across the threshold every minute: 30, 24, 30, 24 …,
    // with a two-minute dip well below (20) every quarter of an hour.
    for (let m = 0; m < 130; m++) {
      const dip = m > 10 && m % 15 < 2;
      const value = m < 10 ? 30 : dip ? 20 : m % 2 === 0 ? 30 : 24;
      await h.send(a, T0 + m * MIN, { pm25: value });
    }
    const all = await h.engine.list();
    expect(all.total).toBe(1);
    expect(all.items[0]).toMatchObject({ subject: a, state: 'open', repeatCount: 0, value: 30 });
    // Opened once the condition had held the default 5 minutes of reading time.
    expect(h.changes.filter((c) => c.state === 'open')).toHaveLength(1);
    expect(h.changes.some((c) => c.state === 'cleared')).toBe(false);
  });

  it('clears only after the clearing time below the margin; the band between changes nothing', async () => {
    const h = await setup();
    const a = await h.device();
    await h.engine.createRule(pm25Rule(), 'ops');
    h.clock.set(T0 + 3 * 60 * MIN);
    let m = 0;
    const hold = async (value: number, minutes: number) => {
      for (const end = m + minutes; m < end; m++) await h.send(a, T0 + m * MIN, { pm25: value });
    };
    await hold(30, 5);
    expect((await h.engine.list()).total).toBe(0); // 4 minutes held, by reading time
    await hold(30, 1);
    const [alert] = (await h.engine.list({ state: 'open' })).items;
    // Default margin 5 % of 25 = 1.25: 24 is below the threshold but not past the margin.
    await hold(24, 30);
    expect((await h.engine.get(alert!.id)).state).toBe('open');
    await hold(23, 5); // past the margin for 4 minutes of reading time
    expect((await h.engine.get(alert!.id)).state).toBe('open');
    await hold(23, 1);
    expect(await h.engine.get(alert!.id)).toMatchObject({
      state: 'cleared',
      clearedBy: 'condition',
      lastValue: 23,
    });
  });

  it('an alert that opens again within the repeat window is the same alert, counted as a repeat', async () => {
    const h = await setup();
    const a = await h.device();
    await h.engine.createRule(
      { ...pm25Rule({ forMinutes: 0, clearForMinutes: 0, clearMargin: 0 }), repeatWindowMinutes: 30 },
      'ops',
    );
    // Every minute across the threshold: with no duration and no margin each swing opens and clears.
    for (let m = 0; m < 20; m++) {
      h.clock.set(T0 + m * MIN);
      await h.send(a, T0 + m * MIN, { pm25: m % 2 === 0 ? 30 : 20 });
    }
    const first = await h.engine.list();
    expect(first.total).toBe(1);
    expect(first.items[0]).toMatchObject({
      state: 'cleared',
      repeatCount: 9,
      openedAt: T0,
      lastOpenedAt: T0 + 18 * MIN,
    });
    expect(h.changes.filter((c) => c.state === 'open').map((c) => c.repeatCount)).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
    ]);
    // Past the window after its clearing: a new alert.
    h.clock.set(T0 + 19 * MIN + 31 * MIN);
    await h.send(a, h.clock.now(), { pm25: 30 });
    const after = await h.engine.list();
    expect(after.total).toBe(2);
    expect(after.items[0]).toMatchObject({ state: 'open', repeatCount: 0 });
    expect(after.items[0]!.id).not.toBe(first.items[0]!.id);
  });

  it('a KPI threshold clears past its margin and reopens as a repeat', async () => {
    const h = await setup();
    await h.engine.createRule(
      { name: 'Air KPI', condition: { kind: 'kpi-threshold', code: 'EN: EN: AQ: 1C', op: '>', value: 10 } },
      'ops',
    );
    const kpi = (value: number) =>
      h.events.emit('kpi-updated', {
        code: 'EN: EN: AQ: 1C',
        periodKind: 'month-to-date',
        value: { value },
        score: null,
      });
    kpi(11);
    const [alert] = (await h.engine.list({ state: 'open' })).items;
    kpi(9.8); // margin 0.5: not yet
    expect((await h.engine.get(alert!.id)).state).toBe('open');
    kpi(9.4);
    expect((await h.engine.get(alert!.id)).state).toBe('cleared');
    h.clock.advance(10 * MIN);
    kpi(12);
    expect((await h.engine.list()).total).toBe(1);
    expect(await h.engine.get(alert!.id)).toMatchObject({ state: 'open', repeatCount: 1, lastValue: 12 });
  });

  it('a refusal rate hovering around its limit keeps one alert open, checked every 15 s', async () => {
    const h = await setup();
    const a = await h.device();
    await h.engine.createRule(
      { name: 'Refusals', condition: { kind: 'refused-spike', perMinute: 2 } },
      'ops',
    );
    // Three refusals every other minute for half an hour: above the limit, then below, each minute.
    for (let s = 0; s < 30 * 60; s += 15) {
      if (s % 120 === 0)
        for (let i = 0; i < 3; i++) await h.ingest.submit(a, 'telemetry', Buffer.from('{not json'));
      h.engine.tick();
      h.clock.advance(15_000);
    }
    expect(await h.engine.list()).toMatchObject({ total: 1, items: [{ state: 'open', repeatCount: 0 }] });
  });

  it('a rule given without timing gets the defaults, and shows them', async () => {
    const h = await setup();
    const rule = await h.engine.createRule(pm25Rule(), 'ops');
    expect(rule.condition).toMatchObject({
      forMinutes: ALERT_TIMING_DEFAULTS.forMinutes,
      clearForMinutes: ALERT_TIMING_DEFAULTS.clearForMinutes,
    });
    expect(rule.repeatWindowMinutes).toBe(ALERT_TIMING_DEFAULTS.repeatWindowMinutes);
    await expect(h.engine.createRule(pm25Rule({ clearMargin: -1 }), 'ops')).rejects.toThrow();
  });
});

describe('alerts.db of the first schema', () => {
  it('is migrated: its rules get the default repeat window, its alerts no repeat', async () => {
    const h = await setup();
    await h.engine.close();
    // Rewrite the file as the first schema held it, with one rule and one open alert.
    const file = h.dir.file('alerts.db');
    const db = new Database(file);
    db.exec(`
      DROP TABLE alerts; DROP TABLE alert_rules;
      CREATE TABLE alert_rules (id TEXT PRIMARY KEY, name TEXT NOT NULL, severity TEXT NOT NULL CHECK
        (severity IN ('info', 'warning', 'critical')), condition TEXT NOT NULL, webhook_url TEXT,
        enabled INTEGER NOT NULL, created_by TEXT NOT NULL, created_at INTEGER NOT NULL) STRICT;
      CREATE TABLE alerts (id TEXT PRIMARY KEY, rule_id TEXT NOT NULL, rule_name TEXT NOT NULL,
        severity TEXT NOT NULL, subject TEXT NOT NULL, subject_kind TEXT NOT NULL, message TEXT NOT NULL,
        value REAL, last_value REAL, state TEXT NOT NULL CHECK (state IN ('open', 'acknowledged', 'cleared')),
        opened_at INTEGER NOT NULL, acknowledged_by TEXT, acknowledged_at INTEGER, cleared_at INTEGER,
        cleared_by TEXT) STRICT;
      CREATE INDEX alerts_by_state ON alerts (state, opened_at);
    `);
    db.pragma(`application_id = ${ALERTS_APPLICATION_ID}`);
    db.pragma('user_version = 1');
    const condition = JSON.stringify({
      kind: 'series-threshold',
      scope: 'city',
      metric: 'no2',
      op: '>',
      value: 100,
      forMinutes: 0,
    });
    db.prepare('INSERT INTO alert_rules VALUES (?, ?, ?, ?, NULL, 1, ?, ?)').run(
      'r000000000001',
      'NO2',
      'warning',
      condition,
      'ops',
      T0,
    );
    db.prepare(
      `INSERT INTO alerts VALUES ('a000000000001', 'r000000000001', 'NO2', 'warning', 'city', 'city', 'm',
        150, 150, 'open', ?, NULL, NULL, NULL, NULL)`,
    ).run(T0);
    db.close();
    await h.reopenEngine();
    expect(h.engine.rules()[0]).toMatchObject({ repeatWindowMinutes: 60, condition: { forMinutes: 0 } });
    expect(await h.engine.get('a000000000001')).toMatchObject({
      state: 'open',
      repeatCount: 0,
      lastOpenedAt: T0,
    });
  });
});
