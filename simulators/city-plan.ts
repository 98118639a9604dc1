import type { AttributeValue } from '../core/ports/device-directory.ts';
import { KindCatalogue } from '../devices/kind-catalogue.ts';
import { hashString, mixSeed, mulberry32, type Prng } from './prng.ts';

/** One device to provision: exactly the body of `POST /api/devices` (and of the registry's provision). */
export interface PlannedDevice {
  kind: string;
  district: string;
  name: string;
  location: { lat: number; lon: number };
  attributes: Record<string, AttributeValue>;
}

export interface CityPlanOptions {
  /** How many devices in all. With at least as many devices as kinds, every kind is present. */
  devices: number;
  districts: readonly string[];
  seed: number;
  /** City centre; districts sit 1–5 km around it. */
  centre?: { lat: number; lon: number };
  kinds?: KindCatalogue;
}

export const DEFAULT_CITY_CENTRE = Object.freeze({ lat: 52.52, lon: 13.405 });

/**
 * How common each kind is in a city, relative: customer meters outnumber air-quality stations by far.
 * Kinds not listed weigh 1.
 */
const KIND_WEIGHTS: Readonly<Record<string, number>> = {
  'electricity-smart-meter': 12,
  'water-smart-meter': 10,
  'traffic-counter': 6,
  'heat-meter': 5,
  'building-energy-meter': 4,
  'transit-stop-display': 4,
  'traffic-signal-controller': 3,
  'noise-monitor': 2,
  'air-quality-station': 2,
  'electricity-feeder-meter': 2,
  'renewable-generation-meter': 2,
  'water-inflow-meter': 1,
  'water-quality-sonde': 1,
  'emf-probe': 1,
  weighbridge: 1,
  'drainage-sensor': 2,
  'wifi-hotspot': 2,
  'emergency-dispatch': 1,
  'broadband-probe': 2,
};

/** Attributes a kind needs (required ones always), with plausible values. */
export function attributesFor(kind: string, rng: Prng, index: number): Record<string, AttributeValue> {
  switch (kind) {
    case 'noise-monitor':
      return { residentsExposed: rng.int(300, 6000) };
    case 'water-smart-meter':
      return { residents: rng.int(1, 5) };
    case 'electricity-smart-meter':
      return { customers: 1 };
    case 'electricity-feeder-meter':
      return { customersServed: rng.int(300, 3000) };
    case 'renewable-generation-meter':
      return { source: rng.pick(['solar', 'solar', 'solar', 'wind', 'hydro', 'biomass']) };
    case 'traffic-counter': {
      const majorStreet = rng.chance(0.4);
      return {
        segmentLengthKm: Math.round(rng.range(0.2, 2.5) * 100) / 100,
        freeFlowSpeedKmh: rng.pick(majorStreet ? [50, 60, 70] : [30, 40, 50]),
        majorStreet,
      };
    }
    case 'transit-stop-display':
      return { stopId: `S${1000 + index}` };
    case 'traffic-signal-controller':
      return { intersectionId: `X-${String(100 + index).padStart(4, '0')}` };
    case 'heat-meter': {
      const residential = rng.chance(0.8);
      return residential ? { residential, residents: rng.int(4, 150) } : { residential };
    }
    case 'building-energy-meter':
      return { publicBuilding: rng.chance(0.5), floorAreaM2: rng.int(400, 20_000), bms: rng.chance(0.4) };
    case 'drainage-sensor':
      return { segmentLengthKm: Math.round(rng.range(0.3, 3) * 100) / 100, reachId: `R-${100 + index}` };
    case 'wifi-hotspot':
      return { venue: rng.pick(['square', 'park', 'library', 'station', 'market']) };
    case 'emergency-dispatch':
      return { service: rng.pick(['ambulance', 'fire', 'police']) };
    case 'broadband-probe':
      return { operator: rng.pick(['operator A', 'operator B']) };
    case 'weighbridge':
      // Where a mid-size European city's waste goes: mostly recycled or incinerated, some landfilled.
      return { disposalMethod: rng.pick(['recycling', 'recycling', 'incineration', 'landfill', 'other']) };
    default:
      return {};
  }
}

/** Splits `total` by weights (largest remainder), giving each kind at least one when there is room. */
function countsPerKind(kinds: readonly string[], total: number): Map<string, number> {
  const counts = new Map<string, number>();
  if (total < kinds.length) {
    // Too few for all: the most common kinds first.
    const byWeight = [...kinds].sort((a, b) => (KIND_WEIGHTS[b] ?? 1) - (KIND_WEIGHTS[a] ?? 1));
    for (const k of byWeight.slice(0, total)) counts.set(k, 1);
    return counts;
  }
  const rest = total - kinds.length;
  const weightSum = kinds.reduce((s, k) => s + (KIND_WEIGHTS[k] ?? 1), 0);
  const shares = kinds.map((k) => ({ k, exact: (rest * (KIND_WEIGHTS[k] ?? 1)) / weightSum }));
  let assigned = 0;
  for (const { k, exact } of shares) {
    counts.set(k, 1 + Math.floor(exact));
    assigned += Math.floor(exact);
  }
  shares.sort((a, b) => b.exact - Math.floor(b.exact) - (a.exact - Math.floor(a.exact)));
  for (let i = 0; assigned < rest; i++, assigned++) {
    const k = shares[i % shares.length]!.k;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return counts;
}

const KM_PER_DEG_LAT = 111.32;

/**
 * A deterministic city: `devices` devices of every kind spread over the districts, each district a cluster
 * 1–5 km from the centre, devices scattered within ~1.2 km of their district's centre.
 */
export function planCity(options: CityPlanOptions): PlannedDevice[] {
  if (!Number.isInteger(options.devices) || options.devices < 0)
    throw new RangeError('devices must be a whole number');
  if (options.districts.length === 0) throw new RangeError('at least one district is needed');
  const catalogue = options.kinds ?? new KindCatalogue();
  const centre = options.centre ?? DEFAULT_CITY_CENTRE;
  const rng = mulberry32(mixSeed(options.seed, hashString('city-plan')));
  const kmPerDegLon = KM_PER_DEG_LAT * Math.cos((centre.lat * Math.PI) / 180);
  const districtCentres = options.districts.map((_, i) => {
    const angle = (2 * Math.PI * i) / options.districts.length + rng.range(-0.3, 0.3);
    const km = i === 0 ? rng.range(0, 0.8) : rng.range(1.5, 5);
    return {
      lat: centre.lat + (km * Math.sin(angle)) / KM_PER_DEG_LAT,
      lon: centre.lon + (km * Math.cos(angle)) / kmPerDegLon,
    };
  });
  const kinds = catalogue.list();
  const counts = countsPerKind(
    kinds.map((k) => k.id),
    options.devices,
  );
  const plan: PlannedDevice[] = [];
  for (const [k, kind] of kinds.entries()) {
    const n = counts.get(kind.id) ?? 0;
    for (let j = 0; j < n; j++) {
      // Round robin with a per-kind offset: each district gets a share of every kind.
      const d = (j + k) % options.districts.length;
      const district = options.districts[d]!;
      const at = districtCentres[d]!;
      const r = 1.2 * Math.sqrt(rng.next());
      const theta = rng.range(0, 2 * Math.PI);
      plan.push({
        kind: kind.id,
        district,
        name: `${district} ${kind.name} ${j + 1}`.slice(0, 128),
        location: {
          lat: Math.round((at.lat + (r * Math.sin(theta)) / KM_PER_DEG_LAT) * 1e6) / 1e6,
          lon: Math.round((at.lon + (r * Math.cos(theta)) / kmPerDegLon) * 1e6) / 1e6,
        },
        attributes: attributesFor(kind.id, rng, plan.length + 1),
      });
    }
  }
  return plan;
}
