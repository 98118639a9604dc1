import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { KindCatalogue } from '../devices/kind-catalogue.ts';
import { deviceSeed, OUTAGE_KINDS, ValueGenerator, valueModels } from './models/index.ts';
import { hashString, mulberry32, uniformAt } from './prng.ts';

const catalogue = new KindCatalogue();
const ZONE = 'Europe/Berlin';
const gen = new ValueGenerator(ZONE);
const at = (iso: string): number => DateTime.fromISO(iso, { zone: ZONE }).toMillis();

const attributesFor = (kind: string): Record<string, string | number | boolean> => {
  if (kind === 'traffic-counter') return { segmentLengthKm: 0.8, freeFlowSpeedKmh: 50, majorStreet: true };
  if (kind === 'electricity-feeder-meter') return { customersServed: 1500 };
  if (kind === 'renewable-generation-meter') return { source: 'solar' };
  return {};
};

/** Mean of a metric over many devices at one local time: the curve, not one device's noise. */
function fleetMean(
  kind: string,
  metric: string,
  ts: number,
  devices = 40,
  attrs = attributesFor(kind),
): number {
  const intervalSec = catalogue.get(kind)!.intervalSec;
  let sum = 0;
  for (let d = 0; d < devices; d++) {
    sum += gen.generate({ kind, seed: deviceSeed(7, `dev-${d}`), ts, intervalSec, attributes: attrs })[
      metric
    ]!;
  }
  return sum / devices;
}

describe('value models', () => {
  it('cover every kind of the catalogue', () => {
    const kinds = catalogue.list().map((k) => k.id);
    expect(Object.keys(valueModels).sort()).toEqual([...kinds].sort());
  });

  it('give every metric of every kind, in range, for a year of timestamps and many devices', () => {
    const start = at('2026-01-01T00:00');
    const rng = mulberry32(42);
    let checked = 0;
    for (const kind of catalogue.list()) {
      for (let i = 0; i < 600; i++) {
        const ts = start + Math.floor(rng.next() * 366 * 86_400_000);
        const outage = OUTAGE_KINDS.has(kind.id) && i % 10 === 0;
        const values = gen.generate({
          kind: kind.id,
          seed: deviceSeed(1, `d${i % 37}`),
          ts,
          intervalSec: kind.intervalSec,
          attributes: i % 2 === 0 ? attributesFor(kind.id) : {},
          outage,
        });
        expect(Object.keys(values).sort()).toEqual(kind.metrics.map((m) => m.name).sort());
        for (const m of kind.metrics) {
          const v = values[m.name]!;
          expect(Number.isFinite(v), `${kind.id}.${m.name}`).toBe(true);
          expect(v, `${kind.id}.${m.name}`).toBeGreaterThanOrEqual(m.min);
          expect(v, `${kind.id}.${m.name}`).toBeLessThanOrEqual(m.max);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(10_000);
  });

  it('are deterministic for a seed and differ between devices', () => {
    const ts = at('2026-03-10T08:15');
    const a = new ValueGenerator(ZONE).generate({
      kind: 'air-quality-station',
      seed: deviceSeed(5, 'x'),
      ts,
      intervalSec: 60,
    });
    const b = new ValueGenerator(ZONE).generate({
      kind: 'air-quality-station',
      seed: deviceSeed(5, 'x'),
      ts,
      intervalSec: 60,
    });
    const c = gen.generate({ kind: 'air-quality-station', seed: deviceSeed(5, 'y'), ts, intervalSec: 60 });
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('follow daily curves: rush-hour NO2 and PM2.5, afternoon O3, quiet nights', () => {
    const rush = at('2026-03-10T08:00'); // a Tuesday
    const night = at('2026-03-10T03:30');
    expect(fleetMean('air-quality-station', 'no2', rush)).toBeGreaterThan(
      1.8 * fleetMean('air-quality-station', 'no2', night),
    );
    expect(fleetMean('air-quality-station', 'pm25', rush)).toBeGreaterThan(
      fleetMean('air-quality-station', 'pm25', night),
    );
    const afternoon = at('2026-07-10T15:00');
    expect(fleetMean('air-quality-station', 'o3', afternoon)).toBeGreaterThan(
      2 * fleetMean('air-quality-station', 'o3', at('2026-07-10T03:00')),
    );
    const rushNoise = fleetMean('noise-monitor', 'laeq', rush);
    expect(rushNoise).toBeGreaterThan(64);
    expect(rushNoise).toBeLessThan(76);
    expect(fleetMean('noise-monitor', 'laeq', night)).toBeLessThan(50);
  });

  it('water inflow is lowest at night (minimum night flow), solar is zero at night', () => {
    const nightFlow = fleetMean('water-inflow-meter', 'volume', at('2026-03-10T03:30'));
    expect(nightFlow).toBeLessThan(0.7 * fleetMean('water-inflow-meter', 'volume', at('2026-03-10T07:30')));
    expect(nightFlow).toBeGreaterThan(0);
    expect(fleetMean('renewable-generation-meter', 'energy', at('2026-06-21T01:00'))).toBe(0);
    expect(fleetMean('renewable-generation-meter', 'energy', at('2026-06-21T13:00'))).toBeGreaterThan(0);
  });

  it('traffic peaks in the morning and speed drops with the count', () => {
    const peak = at('2026-03-10T08:00');
    const night = at('2026-03-10T03:00');
    expect(fleetMean('traffic-counter', 'count', peak)).toBeGreaterThan(
      5 * fleetMean('traffic-counter', 'count', night),
    );
    expect(fleetMean('traffic-counter', 'speed', peak)).toBeLessThan(
      fleetMean('traffic-counter', 'speed', night),
    );
  });

  it('electricity: evening peak above night, outage reports no supply', () => {
    expect(fleetMean('electricity-smart-meter', 'energy', at('2026-01-10T19:00'))).toBeGreaterThan(
      fleetMean('electricity-smart-meter', 'energy', at('2026-01-10T03:30')),
    );
    const v = gen.generate({
      kind: 'electricity-smart-meter',
      seed: 1,
      ts: at('2026-01-10T19:00'),
      intervalSec: 900,
      outage: true,
    });
    expect(v).toEqual({ energy: 0, supply: 0, voltage: 0 });
  });

  it('heat is higher in winter, building energy higher in weekday office hours', () => {
    expect(fleetMean('heat-meter', 'energy', at('2026-01-15T10:00'))).toBeGreaterThan(
      3 * fleetMean('heat-meter', 'energy', at('2026-07-15T10:00')),
    );
    const weekday = fleetMean('building-energy-meter', 'energy', at('2026-03-10T11:00'));
    expect(weekday).toBeGreaterThan(2 * fleetMean('building-energy-meter', 'energy', at('2026-03-14T11:00'))); // Saturday
  });
});

describe('value models of waste, drainage, ICT and safety kinds', () => {
  it('weighbridges weigh nothing when closed, hotspots are busier at lunch than before dawn', () => {
    expect(fleetMean('weighbridge', 'tonnage', at('2026-03-15T10:00'))).toBe(0); // a Sunday
    expect(fleetMean('weighbridge', 'tonnage', at('2026-03-10T22:00'))).toBe(0);
    expect(fleetMean('weighbridge', 'tonnage', at('2026-03-10T10:00'))).toBeGreaterThan(0);
    expect(fleetMean('wifi-hotspot', 'clients', at('2026-03-10T13:00'))).toBeGreaterThan(
      5 * fleetMean('wifi-hotspot', 'clients', at('2026-03-10T04:00')),
    );
  });

  it('drainage flow rises on storm days; a probe site without 3G reports the RSCP floor', () => {
    const days = Array.from({ length: 60 }, (_, d) => at('2026-03-01T12:00') + d * 86_400_000);
    const flows = days.map((ts) => fleetMean('drainage-sensor', 'flow', ts, 10));
    expect(Math.max(...flows)).toBeGreaterThan(2 * Math.min(...flows));
    let floor = 0;
    for (let d = 0; d < 50; d++) {
      const v = gen.generate({
        kind: 'broadband-probe',
        seed: deviceSeed(3, `p${d}`),
        ts: at('2026-03-10T12:00'),
        intervalSec: 900,
      });
      if (v.rscp === -140) floor++;
    }
    expect(floor).toBeGreaterThan(0);
    expect(floor).toBeLessThan(25);
  });
});

describe('prng', () => {
  it('repeats for a seed and spreads uniformly', () => {
    const a = mulberry32(hashString('seed'));
    const b = mulberry32(hashString('seed'));
    const xs = Array.from({ length: 1000 }, () => a.next());
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b.next()));
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(uniformAt(1, 2, 3)).toBe(uniformAt(1, 2, 3));
  });
});
