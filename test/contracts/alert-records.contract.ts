import { describe, expect, it, onTestFinished } from 'vitest';
import { AlertEngine } from '../../alerts/alert-engine.ts';
import type { AlertRecords } from '../../alerts/alert-records.ts';
import { type Alert, type AlertRule, ruleConditionSchema } from '../../alerts/alert-types.ts';
import { ManualClock } from '../../core/clock.ts';
import { silentLogger } from '../../core/logger.ts';
import { PlatformEvents } from '../../core/platform-events.ts';
import { KindCatalogue } from '../../devices/kind-catalogue.ts';
import { DeviceRegistry } from '../../devices/registry.ts';
import { makeTempDir } from '../helpers/temp-dir.ts';

/**
 * How the suite gets a fresh, empty place for alert records: `open` opens records on it as often as the
 * test asks (a restart, or the node that takes over); `cleanup` runs after every one is closed.
 */
export type OpenAlertRecordsPlace = () => Promise<{
  open: () => Promise<AlertRecords>;
  cleanup: () => Promise<void>;
}>;

const T0 = Date.parse('2026-03-15T12:00:00Z');
const MIN = 60_000;

const rule = (id: string, over: Partial<AlertRule> = {}): AlertRule => ({
  id,
  name: `rule ${id}`,
  severity: 'warning',
  condition: ruleConditionSchema.parse({ kind: 'kpi-threshold', code: 'EN: EN: AQ: 1C', op: '>', value: 10 }),
  webhookUrl: null,
  enabled: true,
  repeatWindowMinutes: 60,
  createdBy: 'operator (k1)',
  createdAt: T0,
  ...over,
});

const alert = (id: string, over: Partial<Alert> = {}): Alert => ({
  id,
  ruleId: 'r000000000001',
  ruleName: 'rule r000000000001',
  severity: 'warning',
  subject: 'EN: EN: AQ: 1C',
  subjectKind: 'kpi',
  message: 'PM2.5 above 10',
  value: 12.5,
  lastValue: 12.5,
  state: 'open',
  openedAt: T0,
  repeatCount: 0,
  lastOpenedAt: T0,
  acknowledgedBy: null,
  acknowledgedAt: null,
  clearedAt: null,
  clearedBy: null,
  ...over,
});

export function alertRecordsContract(name: string, place: OpenAlertRecordsPlace): void {
  describe(`alert records contract: ${name}`, () => {
    async function fresh() {
      const p = await place();
      const opened: AlertRecords[] = [];
      onTestFinished(async () => {
        for (const r of opened) await r.close();
        await p.cleanup();
      });
      return async () => {
        const r = await p.open();
        opened.push(r);
        return r;
      };
    }

    it('keeps rules with their condition, in creation order; a delete says whether there was one', async () => {
      const records = await (await fresh())();
      await records.insertRule(rule('r000000000002', { createdAt: T0 + 1, enabled: false }));
      await records.insertRule(
        rule('r000000000001', {
          condition: ruleConditionSchema.parse({
            kind: 'series-threshold',
            metric: 'pm25',
            scope: 'district',
            op: '>',
            value: 25,
            forMinutes: 5,
          }),
          webhookUrl: 'https://ops.example.org/hook',
        }),
      );
      // a retried write stores nothing twice
      await records.insertRule(rule('r000000000001'));
      const rules = await records.rules();
      expect(rules.map((r) => r.id)).toEqual(['r000000000001', 'r000000000002']);
      expect(rules[0]).toMatchObject({ webhookUrl: 'https://ops.example.org/hook', enabled: true });
      expect(rules[0]!.condition).toMatchObject({ kind: 'series-threshold', metric: 'pm25', forMinutes: 5 });
      expect(rules[1]).toMatchObject({ enabled: false, repeatWindowMinutes: 60, createdBy: 'operator (k1)' });
      expect(await records.deleteRule('r000000000002')).toBe(true);
      expect(await records.deleteRule('r000000000002')).toBe(false);
      expect((await records.rules()).map((r) => r.id)).toEqual(['r000000000001']);
    });

    it('keeps an alert through its life, lists by state newest first, pages with the total', async () => {
      const records = await (await fresh())();
      const a1 = alert('a000000000001');
      await records.insertAlert(a1);
      await records.insertAlert(alert('a000000000001', { message: 'a retried insert' }));
      await records.insertAlert(alert('a000000000002', { openedAt: T0 + MIN, lastOpenedAt: T0 + MIN }));
      await records.insertAlert(
        alert('a000000000003', {
          openedAt: T0 + 2 * MIN,
          lastOpenedAt: T0 + 2 * MIN,
          state: 'cleared',
          clearedAt: T0 + 3 * MIN,
          clearedBy: 'condition',
          value: null,
          lastValue: null,
        }),
      );
      await records.updateAlert({
        ...a1,
        state: 'acknowledged',
        acknowledgedBy: 'night shift',
        acknowledgedAt: T0 + 5 * MIN,
        lastValue: 14,
        repeatCount: 2,
        lastOpenedAt: T0 + 4 * MIN,
        message: 'changed',
      });
      expect(await records.getAlert('a000000000001')).toEqual({
        ...a1,
        state: 'acknowledged',
        acknowledgedBy: 'night shift',
        acknowledgedAt: T0 + 5 * MIN,
        lastValue: 14,
        repeatCount: 2,
        lastOpenedAt: T0 + 4 * MIN,
        message: 'changed',
      });
      expect(await records.getAlert('a0000000000ff')).toBeUndefined();
      const ids = async (q: Parameters<AlertRecords['listAlerts']>[0]) => {
        const { items, total } = await records.listAlerts(q);
        return { ids: items.map((a) => a.id), total };
      };
      expect(await ids({})).toEqual({ ids: ['a000000000003', 'a000000000002', 'a000000000001'], total: 3 });
      expect(await ids({ state: 'active' })).toEqual({ ids: ['a000000000002', 'a000000000001'], total: 2 });
      expect(await ids({ state: 'acknowledged' })).toEqual({ ids: ['a000000000001'], total: 1 });
      expect(await ids({ state: 'cleared', limit: 5 })).toEqual({ ids: ['a000000000003'], total: 1 });
      expect(await ids({ limit: 1, offset: 1 })).toEqual({ ids: ['a000000000002'], total: 3 });
      expect((await records.getAlert('a000000000003'))?.value).toBeNull();
    });

    it('loads rules, active alerts and the clearances since a time; prunes cleared alerts past a time', async () => {
      const open = await fresh();
      const records = await open();
      await records.insertRule(rule('r000000000001'));
      await records.insertAlert(alert('a000000000001'));
      for (const [id, clearedAt] of [
        ['a000000000002', T0 - 10 * MIN],
        ['a000000000003', T0 - 30 * MIN],
        ['a000000000004', T0 - 90 * MIN],
      ] as const)
        await records.insertAlert(alert(id, { state: 'cleared', clearedAt, clearedBy: 'condition' }));
      await records.close();
      const again = await open();
      const snap = await again.load(T0 - 60 * MIN);
      expect(snap.rules.map((r) => r.id)).toEqual(['r000000000001']);
      expect(snap.active.map((a) => a.id)).toEqual(['a000000000001']);
      expect(snap.recentlyCleared.map((a) => a.id)).toEqual(['a000000000003', 'a000000000002']);
      expect(await again.pruneCleared(T0 - 20 * MIN)).toBe(2);
      expect((await again.listAlerts({})).items.map((a) => a.id).sort()).toEqual([
        'a000000000001',
        'a000000000002',
      ]);
    });

    it('an engine that takes over continues the alerts: acknowledged stays acknowledged, a reopening is a repeat', async () => {
      const open = await fresh();
      const dir = makeTempDir('cm-alert-contract-');
      onTestFinished(() => dir.remove());
      const clock = new ManualClock(T0);
      const logger = silentLogger();
      const kinds = new KindCatalogue();
      const registry = DeviceRegistry.open({ dataDir: dir.path, kinds, clock, logger, scryptCost: 1024 });
      onTestFinished(() => registry.close());
      const events = new PlatformEvents();
      const deps = {
        cityName: 'Test City',
        events,
        registry,
        kinds,
        ingest: { stats: () => ({}) },
        clock,
        logger,
      };
      const engine = async () => AlertEngine.openOn(deps, await open(), { checkIntervalMs: 0 });
      const code = 'EN: EN: AQ: 1C';
      const first = await engine();
      const r = await first.createRule(
        {
          name: 'PM2.5 monthly mean',
          severity: 'critical',
          condition: { kind: 'kpi-threshold', code, op: '>', value: 10 },
        } as Parameters<AlertEngine['createRule']>[0],
        'operator (k1)',
      );
      first.offerKpi({ code, periodKind: 'month-to-date', value: { value: 12 } });
      const [opened] = (await first.list({ state: 'open' })).items;
      expect(opened).toMatchObject({ ruleId: r.id, subject: code, value: 12 });
      await first.acknowledge(opened!.id, 'night shift');
      await first.close();

      // The next leader: the same alert, still acknowledged; the same value does not open a second one.
      const second = await engine();
      expect(second.rules().map((x) => x.id)).toEqual([r.id]);
      second.offerKpi({ code, periodKind: 'month-to-date', value: { value: 13 } });
      expect(await second.list()).toMatchObject({
        total: 1,
        items: [{ id: opened!.id, state: 'acknowledged', acknowledgedBy: 'night shift' }],
      });
      clock.advance(5 * MIN);
      second.offerKpi({ code, periodKind: 'month-to-date', value: { value: 8 } });
      expect(await second.get(opened!.id)).toMatchObject({ state: 'cleared', clearedBy: 'condition' });
      await second.close();

      // And the one after: within the rule's repeat window, the cleared alert opens again as a repeat.
      const third = await engine();
      clock.advance(10 * MIN);
      third.offerKpi({ code, periodKind: 'month-to-date', value: { value: 15 } });
      expect(await third.list()).toMatchObject({
        total: 1,
        items: [{ id: opened!.id, state: 'open', repeatCount: 1, lastValue: 15 }],
      });
      await third.close();
    });
  });
}
