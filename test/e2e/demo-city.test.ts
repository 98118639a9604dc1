import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.ts';
import { silentLogger } from '../../core/logger.ts';
import { DEMO_CITY, type DemoDevice, provisionDemoCity, seedCityFigures } from '../../demo.ts';
import { KindCatalogue } from '../../devices/kind-catalogue.ts';
import type { Lineage } from '../../metrics/kpi-types.ts';
import { ValueGenerator } from '../../simulators/models/index.ts';
import { VirtualDevice } from '../../simulators/virtual-device.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/platform-harness.ts';

/**
 * `npm run demo`'s city after one simulated day: the demo's own devices, attributes and city figures
 * (provisionDemoCity), its value models and seed, each device a real MQTT client on the platform's broker.
 * The day is made offline on a ManualClock, each device buffering its readings at its kind's interval, then
 * back-filled on connect as the devices do after an outage: a day of readings in seconds. Every headline
 * KPI must then read as a European city's would.
 */

const ZONE = 'Europe/Berlin';
const DAY = 86_400_000;
const MIN = 60_000;
/**
 * A Tuesday in March (heating season, no DST change), as a new user starts the demo: mid-month, so month to
 * date holds nine days before the devices were installed, which the per-day and per-year rates leave out.
 */
const DAY_START = DateTime.fromISO('2026-03-10T00:00', { zone: ZONE }).toMillis();
const DEVICES = 100; // the demo's default

interface KpiItem {
  code: string;
  unit: string;
  current: Record<string, { value: number | null; dataQuality: string } | null>;
}

let t: TestPlatform;
let fleet: VirtualDevice[] = [];
let demo: DemoDevice[];
const kpi = new Map<string, KpiItem>();

/** Resolves once every reading the device made has been acknowledged by the broker (QoS 1). */
const allAcknowledged = (d: VirtualDevice): Promise<void> =>
  new Promise((resolve) => {
    const check = (): void => {
      if (d.stats.acknowledged < d.stats.generated) return;
      d.off('acknowledged', check);
      resolve();
    };
    d.on('acknowledged', check);
    check();
  });

beforeAll(async () => {
  const clock = new ManualClock(DAY_START - 10 * MIN);
  t = await startTestPlatform(
    { cityTimezone: ZONE, deviceRateLimitPerSec: 100_000, kpiRecomputeDebounceMs: 3_600_000 },
    clock,
  );
  demo = await provisionDemoCity(t.platform, { devices: DEVICES, installedAt: DAY_START - MIN });
  const kinds = new KindCatalogue();
  const generator = new ValueGenerator(ZONE);
  const deviceClock = new ManualClock(DAY_START);
  fleet = demo.map(
    (d) =>
      new VirtualDevice({
        id: d.id,
        password: d.password,
        kind: kinds.get(d.kind)!,
        attributes: d.attributes,
        url: t.addresses.mqttUrl,
        qos: 1,
        intervalMs: 0,
        seed: 42, // runDemo's seed: the same values the demo's devices send
        clock: deviceClock,
        logger: silentLogger(),
        generator,
        bufferLimit: 2_000,
      }),
  );
  const intervalMs = demo.map((d) => kinds.get(d.kind)!.intervalSec * 1000);
  for (let ts = DAY_START; ts < DAY_START + DAY; ts += MIN) {
    deviceClock.set(ts);
    fleet.forEach((device, i) => {
      if ((ts - DAY_START) % intervalMs[i]! === 0) device.tick();
    });
  }
  clock.set(DAY_START + DAY + 5 * MIN);
  deviceClock.set(DAY_START + DAY + 5 * MIN);
  for (const device of fleet) device.start();
  await Promise.all(fleet.map(allAcknowledged));
  await t.platform.ingest.drain();
  await t.platform.kpis.engine.flush();
  const list = await t.api<{ items: KpiItem[] }>('GET', '/api/kpis');
  for (const item of list.body.items) kpi.set(item.code, item);
}, 120_000);

afterAll(async () => {
  await Promise.all(fleet.map((d) => d.stop()));
  await t?.close();
});

const today = (code: string): number => {
  const v = kpi.get(code)?.current['month-to-date']?.value;
  expect(v, `${code} has a value`).toBeTypeOf('number');
  return v!;
};

describe('the demo city after a simulated day', () => {
  it('sent the whole day, every reading accepted', () => {
    const generated = fleet.reduce((n, d) => n + d.stats.generated, 0);
    expect(generated).toBeGreaterThan(10_000);
    expect(fleet.every((d) => d.stats.dropped === 0 && d.stats.backfilled === d.stats.generated)).toBe(true);
    expect(t.platform.ingest.stats().refused.total).toBe(0);
  });

  it.each([
    ['EN: EN: WS: 2C', 'Water Consumption, L per person per day', 100, 250],
    ['EC: I: WS: 3C', 'Water Supply Loss, %', 5, 35],
    ['EN: E: E: 2C', 'Electricity Consumption, kWh per person per year', 1_000, 3_000],
    ['EN: EN: AQ: 1C', 'PM2.5, µg/m³', 5, 25],
    ['EN: EN: EQ: 2A', 'Noise Exposure, % of residents', 5, 60],
    // district heat only, to a third of the homes: fuels burnt in homes are not metered
    ['EN: E: E: 3C', 'Residential Thermal Energy, GJ per person per year', 2, 20],
  ])('%s %s is within %d–%d', (code, _name, low, high) => {
    const v = today(code);
    expect(v, code).toBeGreaterThanOrEqual(low);
    expect(v, code).toBeLessThanOrEqual(high);
  });

  it('Water Supply Loss scales the metered customers up to all households, and says so', async () => {
    const res = await t.api<{ lineage: Lineage }>(
      'GET',
      `/api/kpis/EC-I-WS-3C/lineage?period=${DateTime.fromMillis(DAY_START, { zone: ZONE }).toFormat('yyyy-MM')}-mtd`,
    );
    expect(res.status).toBe(200);
    const meters = demo.filter((d) => d.kind === 'water-smart-meter').length;
    expect(res.body.lineage.estimates).toEqual([
      {
        quantity: 'delivered volume',
        sampled: meters,
        total: DEMO_CITY.households,
        factor: DEMO_CITY.households / meters,
        totalFrom: 'waterMetersTotal',
      },
    ]);
    expect(kpi.get('EC: I: WS: 3C')?.current['month-to-date']?.dataQuality).toBe(
      'estimation-with-assumptions',
    );
    expect(kpi.get('EN: EN: WS: 2C')?.current['month-to-date']?.dataQuality).toBe(
      'estimation-with-assumptions',
    );
  });
});

describe('a data directory from an older demo', () => {
  it('gets this city: its devices resized, its own figures entered again, an analyst’s left alone', async () => {
    const feeder = demo.find((d) => d.kind === 'electricity-feeder-meter')!;
    await t.platform.registry.update(feeder.id, { attributes: { customersServed: 999 } });
    const year = String(DateTime.fromMillis(DAY_START, { zone: ZONE }).year);
    const entry = (code: string, value: number, source: string) => ({
      code,
      dataPoint: null,
      period: year,
      value,
      unit: 'meters',
      dataQuality: 'estimation-with-assumptions' as const,
      source,
      evidence: null,
    });
    const by = { keyId: 'test', name: 'test' };
    await t.platform.kpis.service.enterValues([entry('waterMetersTotal', 65, 'demo estimate')], by);
    const current = (code: string) =>
      t.platform.kpis.kpiStore.currentManualValues('input').find((m) => m.subject === code)?.value;

    const again = await provisionDemoCity(t.platform, { devices: DEVICES });
    expect(again.find((d) => d.id === feeder.id)?.attributes).toEqual(feeder.attributes);
    expect(t.platform.registry.get(feeder.id)?.attributes.customersServed).toBe(
      feeder.attributes?.customersServed,
    );
    expect(current('waterMetersTotal')).toBe(DEMO_CITY.households);

    await t.platform.kpis.service.enterValues([entry('waterMetersTotal', 80_000, 'utility register')], by);
    await seedCityFigures(t.platform, again);
    expect(current('waterMetersTotal')).toBe(80_000);
  }, 60_000);
});
