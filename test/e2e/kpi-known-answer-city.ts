/**
 * The known-answer city: a deterministic month of readings and events for a small city with a device of
 * every kind, with gaps, duplicates, late and out-of-order readings, and the facts (profile, formula inputs)
 * its KPIs need. The expected KPI values are computed from the generated readings in
 * kpi-known-answer-expected.ts, without the formula code.
 */

export type Attrs = Record<string, string | number | boolean>;

export interface DeviceSpec {
  key: string;
  kind: string;
  district: string;
  attributes: Attrs;
  intervalSec: number;
  /** metric values of reading i at ts (r: uniform in [0, 1) from the seeded stream) */
  values(i: number, ts: number, r: () => number): Record<string, number>;
  /** never drop this reading (the last adaptive state must be known) */
  keep?(i: number, count: number): boolean;
}

export interface Reading {
  ts: number;
  values: Record<string, number>;
}

export interface DeviceEvent {
  ts: number;
  type: 'outage_start' | 'restore' | 'incident_call' | 'incident_arrival' | 'incident_cancel';
  data?: { incident: string };
}

export interface GeneratedCity {
  specs: DeviceSpec[];
  /** what the platform ends up holding (unique identities), per device key, by ts */
  kept: Map<string, Reading[]>;
  /** message payloads per device key in sending order: batches, duplicates, late ones last */
  batches: Map<string, Reading[][]>;
  events: Map<string, DeviceEvent[]>;
  /** readings of the air station held back for after the month closes (pm25 only) */
  afterClose: Reading[];
}

/** mulberry32: a seeded uniform stream of its own (the test shares no code with the simulators). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HOUR = 3_600_000;
const round3 = (x: number): number => Math.round(x * 1000) / 1000;
const hourOfDay = (ts: number): number => Math.floor(ts / HOUR) % 24;

export const CITY_FACTS = {
  population: 100_000,
  inputs: {
    majorStreetKm: { value: 10, unit: 'km' },
    transitStopsTotal: { value: 4, unit: 'stops' },
    intersectionsTotal: { value: 4, unit: 'intersections' },
    electricityMetersTotal: { value: 10, unit: 'meters' },
    electricityFeedersTotal: { value: 4, unit: 'feeders' },
    waterMetersTotal: { value: 5, unit: 'meters' },
    waterSupplyZonesTotal: { value: 2, unit: 'zones' },
    publicBuildingFloorAreaM2: { value: 8000, unit: 'm²' },
    drainageNetworkKm: { value: 30, unit: 'km' },
    emissionFactorElectricity: { value: 0.3, unit: 'kg CO2e/kWh' },
    emissionFactorHeat: { value: 0.2, unit: 'kg CO2e/kWh' },
  },
} as const;

export const DEVICE_SPECS: DeviceSpec[] = [
  {
    key: 'air1',
    kind: 'air-quality-station',
    district: 'centre',
    attributes: {},
    intervalSec: 60,
    values: (i, ts, r) => {
      const pm25 = round3(8 + 5 * Math.sin(ts / 9e6) + 4 * r());
      return {
        pm25,
        pm10: round3(pm25 * 1.6 + 3 * r()),
        no2: round3(15 + 12 * r()),
        so2: round3(2 + 3 * r()),
        o3: round3(40 + 25 * r() + (i % 1440) / 100),
      };
    },
  },
  {
    key: 'noise-loud',
    kind: 'noise-monitor',
    district: 'centre',
    attributes: { residentsExposed: 3000 },
    intervalSec: 60,
    values: (_i, ts, r) => ({ laeq: round3(58 + 6 * r() + (hourOfDay(ts) > 6 ? 4 : 0)) }),
  },
  {
    key: 'noise-quiet',
    kind: 'noise-monitor',
    district: 'north',
    attributes: { residentsExposed: 7000 },
    intervalSec: 60,
    values: (_i, _ts, r) => ({ laeq: round3(42 + 6 * r()) }),
  },
  {
    key: 'traffic1',
    kind: 'traffic-counter',
    district: 'centre',
    attributes: { segmentLengthKm: 2.5, freeFlowSpeedKmh: 50, majorStreet: true },
    intervalSec: 60,
    values: (_i, ts, r) => ({
      speed: round3(28 + 15 * r() + (hourOfDay(ts) < 6 ? 8 : 0)),
    }),
  },
  {
    key: 'display-live',
    kind: 'transit-stop-display',
    district: 'centre',
    attributes: { stopId: 'stop-a' },
    intervalSec: 60,
    values: (_i, _ts, r) => ({ heartbeat: 1 + Math.floor(4 * r()) }),
  },
  {
    key: 'inflow1',
    kind: 'water-inflow-meter',
    district: 'centre',
    attributes: {},
    intervalSec: 300,
    values: (_i, _ts, r) => ({ volume: round3(0.05 + 0.04 * r()) }),
  },
  ...[1, 2].map(
    (n): DeviceSpec => ({
      key: `wmeter${n}`,
      kind: 'water-smart-meter',
      district: 'centre',
      attributes: { residents: 3 },
      intervalSec: 900,
      values: (_i, _ts, r) => ({ volume: round3(0.05 + 0.1 * r()) }),
    }),
  ),
  {
    key: 'sonde1',
    kind: 'water-quality-sonde',
    district: 'centre',
    attributes: {},
    intervalSec: 600,
    values: (_i, _ts, r) => ({
      chlorine: round3(0.4 + 0.5 * r()),
      turbidity: round3(r() < 0.02 ? 6 : 0.3 + r()),
      ph: round3(7 + 0.5 * r()),
    }),
  },
  ...[1, 2].map(
    (n): DeviceSpec => ({
      key: `esm${n}`,
      kind: 'electricity-smart-meter',
      district: 'centre',
      attributes: { customers: 1 },
      intervalSec: 900,
      values: (_i, _ts, r) => ({ energy: round3(0.1 + 0.4 * r()) }),
    }),
  ),
  ...[
    { n: 1, customers: 500 },
    { n: 2, customers: 300 },
  ].map(
    ({ n, customers }): DeviceSpec => ({
      key: `feeder${n}`,
      kind: 'electricity-feeder-meter',
      district: n === 1 ? 'centre' : 'north',
      attributes: { customersServed: customers },
      intervalSec: 300,
      values: (_i, _ts, r) => ({ energy: round3(50 + 100 * r()) }),
    }),
  ),
  {
    key: 'pv1',
    kind: 'renewable-generation-meter',
    district: 'north',
    attributes: {},
    intervalSec: 900,
    values: (_i, ts, r) => {
      const h = hourOfDay(ts);
      return { energy: h >= 8 && h < 18 ? round3(200 * r()) : 0 };
    },
  },
  {
    key: 'emf-ok',
    kind: 'emf-probe',
    district: 'centre',
    attributes: {},
    intervalSec: 600,
    values: (_i, _ts, r) => ({ efield: round3(1 + 4 * r()) }),
  },
  {
    key: 'emf-high',
    kind: 'emf-probe',
    district: 'north',
    attributes: {},
    intervalSec: 600,
    values: (i, _ts, r) => ({ efield: round3(i % 997 === 500 ? 35 : 2 + 6 * r()) }),
    keep: (i) => i % 997 === 500,
  },
  {
    key: 'tsc-adaptive',
    kind: 'traffic-signal-controller',
    district: 'centre',
    attributes: { intersectionId: 'x1' },
    intervalSec: 300,
    values: (_i, _ts, r) => ({ adaptive: r() < 0.1 ? 0 : 1 }),
    keep: (i, count) => i === count - 1,
  },
  {
    key: 'tsc-fixed',
    kind: 'traffic-signal-controller',
    district: 'north',
    attributes: { intersectionId: 'x2' },
    intervalSec: 300,
    values: () => ({ adaptive: 0 }),
  },
  {
    key: 'heat1',
    kind: 'heat-meter',
    district: 'centre',
    attributes: { residential: true, residents: 80 },
    intervalSec: 3600,
    values: (_i, _ts, r) => ({ energy: round3(20 + 40 * r()) }),
  },
  {
    key: 'bem-bms',
    kind: 'building-energy-meter',
    district: 'centre',
    attributes: { publicBuilding: true, floorAreaM2: 2000, bms: true },
    intervalSec: 900,
    values: (_i, _ts, r) => ({ energy: round3(5 + 10 * r()) }),
  },
  {
    key: 'bem-plain',
    kind: 'building-energy-meter',
    district: 'north',
    attributes: { publicBuilding: true, floorAreaM2: 3000, bms: false },
    intervalSec: 900,
    values: (_i, _ts, r) => ({ energy: round3(8 + 12 * r()) }),
  },
  {
    key: 'wb-landfill',
    kind: 'weighbridge',
    district: 'north',
    attributes: { disposalMethod: 'landfill' },
    intervalSec: 3600,
    values: (_i, ts, r) => ({ tonnage: hourOfDay(ts) >= 6 && hourOfDay(ts) < 18 ? round3(1 + 4 * r()) : 0 }),
  },
  {
    key: 'wb-recycling',
    kind: 'weighbridge',
    district: 'centre',
    attributes: { disposalMethod: 'recycling' },
    intervalSec: 3600,
    values: (_i, _ts, r) => ({ tonnage: round3(0.5 + 2 * r()) }),
  },
  ...[1, 2].map(
    (n): DeviceSpec => ({
      key: `drain${n}`,
      kind: 'drainage-sensor',
      district: 'centre',
      // a level and a flow sensor on one 1.5 km reach: its km count once
      attributes: { segmentLengthKm: 1.5, reachId: 'R1' },
      intervalSec: 300,
      values: (_i, _ts, r): Record<string, number> =>
        n === 1 ? { level: round3(0.2 + 0.3 * r()) } : { flow: round3(20 + 60 * r()) },
    }),
  ),
  ...[1, 2].map(
    (n): DeviceSpec => ({
      key: `wifi${n}`,
      kind: 'wifi-hotspot',
      district: n === 1 ? 'centre' : 'north',
      attributes: { venue: n === 1 ? 'square' : 'library' },
      intervalSec: 300,
      values: (_i, _ts, r) => ({ clients: Math.floor(30 * r()) }),
    }),
  ),
  {
    key: 'probe-good',
    kind: 'broadband-probe',
    district: 'centre',
    attributes: {},
    intervalSec: 900,
    values: (_i, _ts, r) => ({ samples: 90, rsrp: round3(-95 + 10 * r()), rscp: round3(-97 + 5 * r()) }),
  },
  {
    key: 'probe-edge',
    kind: 'broadband-probe',
    district: 'north',
    attributes: {},
    intervalSec: 900,
    values: (_i, _ts, r) => ({ samples: 90, rsrp: round3(-118 + 3 * r()), rscp: -140 }),
  },
  {
    key: 'cad1',
    kind: 'emergency-dispatch',
    district: 'centre',
    attributes: { service: 'ambulance' },
    intervalSec: 300,
    values: (_i, _ts, r) => ({ calls: r() < 0.02 ? 1 : 0 }),
  },
];

/**
 * Readings every interval over [start, end), each device offset by a few seconds: 3 % dropped (gaps) and a
 * six-hour outage of the air station, 1 % sent twice (duplicates), 5 % held back and sent after the rest
 * (late), every batch shuffled (out of order). Feeder outages as events. Deterministic from the seed.
 */
export function generateCity(start: number, end: number, seed: number): GeneratedCity {
  const kept = new Map<string, Reading[]>();
  const batches = new Map<string, Reading[][]>();
  const events = new Map<string, DeviceEvent[]>();
  const afterClose: Reading[] = [];
  for (const [d, spec] of DEVICE_SPECS.entries()) {
    const r = prng(seed * 7919 + d);
    const step = spec.intervalSec * 1000;
    const first = start + (d % 7) * 1000;
    const count = Math.ceil((end - first) / step);
    const mine: Reading[] = [];
    const sendNow: Reading[] = [];
    const late: Reading[] = [];
    const outage =
      spec.key === 'air1' ? { from: start + 10 * 86_400_000, to: start + 10 * 86_400_000 + 6 * HOUR } : null;
    for (let i = 0; i < count; i++) {
      const ts = first + i * step;
      const reading = { ts, values: spec.values(i, ts, r) };
      const forced = spec.keep?.(i, count) ?? false;
      if (outage !== null && ts >= outage.from && ts < outage.to) {
        if (spec.key === 'air1' && afterClose.length < 120)
          afterClose.push({ ts, values: { pm25: round3(reading.values.pm25! + 30) } });
        continue;
      }
      if (!forced && r() < 0.03) continue;
      mine.push(reading);
      (r() < 0.05 ? late : sendNow).push(reading);
      if (r() < 0.01) (r() < 0.5 ? late : sendNow).push(reading);
    }
    kept.set(spec.key, mine);
    const shuffle = (list: Reading[]) => {
      for (let i = list.length - 1; i > 0; i--) {
        const j = Math.floor(r() * (i + 1));
        [list[i], list[j]] = [list[j]!, list[i]!];
      }
      return list;
    };
    const chunk = (list: Reading[]) => {
      const out: Reading[][] = [];
      for (let i = 0; i < list.length; i += 500) out.push(list.slice(i, i + 500));
      return out;
    };
    batches.set(spec.key, [...chunk(shuffle(sendNow)), ...chunk(shuffle(late))]);
  }
  const at = (days: number, hours: number) => start + days * 86_400_000 + hours * HOUR;
  events.set('feeder1', [
    { ts: at(3, 2), type: 'outage_start' },
    { ts: at(3, 2) + 47 * 60_000, type: 'restore' },
    { ts: at(17, 14), type: 'outage_start' },
    { ts: at(17, 14) + 2 * HOUR + 13 * 60_000, type: 'restore' },
  ]);
  events.set('feeder2', [
    { ts: at(25, 9), type: 'outage_start' },
    { ts: at(25, 9) + 95 * 60_000, type: 'restore' },
  ]);
  const incident = (incident: string, type: DeviceEvent['type'], ts: number): DeviceEvent => ({
    ts,
    type,
    data: { incident },
  });
  events.set('cad1', [
    incident('I-1', 'incident_call', at(2, 10)),
    incident('I-1', 'incident_arrival', at(2, 10) + 9.5 * 60_000),
    incident('I-2', 'incident_call', at(12, 3)),
    incident('I-2', 'incident_arrival', at(12, 3) + 14 * 60_000),
    incident('I-3', 'incident_call', at(20, 18)),
    incident('I-3', 'incident_arrival', at(20, 18) + 6 * 60_000),
    incident('I-4', 'incident_call', at(27, 7)),
    incident('I-4', 'incident_cancel', at(27, 7) + 2 * 60_000),
  ]);
  return { specs: DEVICE_SPECS, kept, batches, events, afterClose };
}
