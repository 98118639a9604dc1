import { DateTime } from 'luxon';
import { CITY_FACTS, type GeneratedCity, type Reading } from './kpi-known-answer-city.ts';

/**
 * Expected KPI values of the known-answer city, computed here from the generated readings by the U4SSC
 * definitions as citymetrics documents them, without the formula code: a mistake in a formula, in the
 * period boundaries (DST), in deduplication or in the order of arrival shows as a difference.
 */

const HOUR = 3_600_000;
const YEAR_DAYS = 365.2425;
const GJ_PER_KWH = 0.0036;

export interface MonthFacts {
  start: number;
  end: number;
  /** local calendar days of the month */
  days: number;
  /** the city's IANA zone */
  zone: string;
}

/** Expected values keyed `code` or `code|dataPoint`, and the air pollution completeness. */
export function expectedKpis(
  city: GeneratedCity,
  month: MonthFacts,
): { values: Map<string, number | null>; airCompleteness: number; airCompletenessAfter: number } {
  const kept = (key: string): Reading[] => city.kept.get(key) ?? [];
  const values = (key: string, metric: string): number[] =>
    kept(key)
      .map((r) => r.values[metric])
      .filter((v): v is number => v !== undefined);
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const mean = (xs: number[]) => (xs.length === 0 ? null : sum(xs) / xs.length);
  const annual = YEAR_DAYS / month.days;
  const pop = CITY_FACTS.population;
  const inputs = CITY_FACTS.inputs;
  const out = new Map<string, number | null>();

  // EN: EN: AQ: 1C per pollutant the mean of station means (one station: its mean); the value's
  // completeness is that of PM2.5, the data point it carries
  const air: Array<[string, string]> = [
    ['PM2.5', 'pm25'],
    ['PM10', 'pm10'],
    ['NO2', 'no2'],
    ['SO2', 'so2'],
    ['O3', 'o3'],
  ];
  for (const [dp, metric] of air) out.set(`EN: EN: AQ: 1C|${dp}`, mean(values('air1', metric)));
  const spec = city.specs.find((s) => s.key === 'air1')!;
  const expectedReadings = Math.floor((month.end - month.start) / (spec.intervalSec * 1000));
  const airCompleteness = Math.min(values('air1', 'pm25').length, expectedReadings) / expectedReadings;
  // the held-back readings fall in the outage, on instants the station had not sent
  const airCompletenessAfter =
    Math.min(values('air1', 'pm25').length + city.afterClose.length, expectedReadings) / expectedReadings;

  // EN: EN: EQ: 2A Lden per monitor from its raw readings (energetic means of the readings in the local
  // hours of day 07–19, evening 19–23 (+5 dB), night 23–07 (+10 dB)), residents of monitors over 55 dB
  // ÷ population. Every period is covered (3 % of readings dropped), so Lden applies to both monitors.
  let exposed = 0;
  for (const key of ['noise-loud', 'noise-quiet']) {
    const parts = { day: { e: 0, n: 0 }, evening: { e: 0, n: 0 }, night: { e: 0, n: 0 } };
    for (const r of kept(key)) {
      const h = DateTime.fromMillis(r.ts, { zone: month.zone }).hour;
      const part = h >= 7 && h < 19 ? parts.day : h >= 19 && h < 23 ? parts.evening : parts.night;
      part.e += 10 ** (r.values.laeq! / 10);
      part.n++;
    }
    const level = (p: { e: number; n: number }) => 10 * Math.log10(p.e / p.n);
    const lden =
      10 *
      Math.log10(
        (12 * 10 ** (level(parts.day) / 10) +
          4 * 10 ** ((level(parts.evening) + 5) / 10) +
          8 * 10 ** ((level(parts.night) + 10) / 10)) /
          24,
      );
    if (lden > 55) exposed += Number(city.specs.find((s) => s.key === key)!.attributes.residentsExposed);
  }
  out.set('EN: EN: EQ: 2A', (exposed / pop) * 100);

  // EN: EN: EQ: 1C probes whose maximum stays within 28 V/m
  const probes = ['emf-ok', 'emf-high'];
  out.set(
    'EN: EN: EQ: 1C',
    (probes.filter((k) => Math.max(...values(k, 'efield')) <= 28).length / probes.length) * 100,
  );

  // water
  // 2 smart meters of waterMetersTotal customers: their volume scaled up to all customers (an estimate)
  const delivered =
    (sum(values('wmeter1', 'volume')) + sum(values('wmeter2', 'volume'))) *
    (inputs.waterMetersTotal.value / 2);
  const input = sum(values('inflow1', 'volume'));
  out.set('EN: EN: WS: 2C', (delivered * 1000) / pop / month.days);
  out.set('EC: I: WS: 3C', Math.max(0, ((input - delivered) / input) * 100));
  out.set('EC: ICT: WS: 1C', (2 / inputs.waterMetersTotal.value) * 100);
  out.set('EC: ICT: WS: 2A', (1 / inputs.waterSupplyZonesTotal.value) * 100);
  const hours = new Map<number, { cl: number[]; tu: number[]; ph: number[] }>();
  for (const r of kept('sonde1')) {
    const h = Math.floor(r.ts / HOUR);
    const e = hours.get(h) ?? { cl: [], tu: [], ph: [] };
    e.cl.push(r.values.chlorine!);
    e.tu.push(r.values.turbidity!);
    e.ph.push(r.values.ph!);
    hours.set(h, e);
  }
  let compliant = 0;
  for (const e of hours.values()) {
    const ok =
      Math.min(...e.cl) >= 0.2 &&
      Math.max(...e.cl) <= 5 &&
      Math.max(...e.tu) <= 4 &&
      Math.min(...e.ph) >= 6.5 &&
      Math.max(...e.ph) <= 9.5;
    if (ok) compliant++;
  }
  out.set('EN: EN: WS: 1C', (compliant / hours.size) * 100);

  // electricity: feeders measure consumption; 2 of electricityFeedersTotal feeders, scaled up to all
  const consumed =
    (sum(values('feeder1', 'energy')) + sum(values('feeder2', 'energy'))) *
    (inputs.electricityFeedersTotal.value / 2);
  out.set('EN: E: E: 2C', (consumed * annual) / pop);
  out.set('EN: E: E: 1C', Math.min(100, (sum(values('pv1', 'energy')) / consumed) * 100));
  const customers: Record<string, number> = { feeder1: 500, feeder2: 300 };
  let interrupted = 0;
  let customerMinutes = 0;
  for (const key of ['feeder1', 'feeder2']) {
    const sorted = [...(city.events.get(key) ?? [])].sort((a, b) => a.ts - b.ts);
    // each interruption once, in the month it began, with its whole duration; a month's SAIFI annualised
    for (let i = 0; i + 1 < sorted.length; i += 2) {
      if (sorted[i]!.ts < month.start || sorted[i]!.ts >= month.end) continue;
      interrupted += customers[key]!;
      customerMinutes += (customers[key]! * (sorted[i + 1]!.ts - sorted[i]!.ts)) / 60_000;
    }
  }
  out.set('EC: I: ES: 1C', (interrupted / (customers.feeder1! + customers.feeder2!)) * annual);
  out.set('EC: I: ES: 2C', customerMinutes / interrupted);
  out.set('EC: ICT: ES: 1C', (2 / inputs.electricityMetersTotal.value) * 100);
  out.set('EC: ICT: ES: 2A', (2 / inputs.electricityFeedersTotal.value) * 100);

  // transport
  out.set('EC: ICT: T: 2C', (2.5 / inputs.majorStreetKm.value) * 100);
  // EC: I: T: 5A free-flow speed ÷ mean speed of the readings in the default peaks, 07:00–09:00 and
  // 16:30–18:30 local time, Monday to Friday
  const peakSpeeds = kept('traffic1')
    .filter((r) => {
      const t = DateTime.fromMillis(r.ts, { zone: month.zone });
      const min = t.hour * 60 + t.minute;
      return t.weekday <= 5 && ((min >= 420 && min < 540) || (min >= 990 && min < 1110));
    })
    .map((r) => r.values.speed!);
  out.set('EC: I: T: 5A', Math.max(1, 50 / mean(peakSpeeds)!));
  const live = ['display-live'].filter((k) => sum(values(k, 'heartbeat')) > 0).length;
  out.set('EC: ICT: T: 1C', (live / inputs.transitStopsTotal.value) * 100);
  const lastAdaptive = (key: string) => [...kept(key)].sort((a, b) => a.ts - b.ts).at(-1)!.values.adaptive;
  const adaptive = ['tsc-adaptive', 'tsc-fixed'].filter((k) => lastAdaptive(k) === 1).length;
  out.set('EC: ICT: T: 3A', (adaptive / inputs.intersectionsTotal.value) * 100);

  // buildings and heat
  out.set('EN: E: E: 3C', (sum(values('heat1', 'energy')) * GJ_PER_KWH * annual) / pop);
  const buildingKwh = sum(values('bem-bms', 'energy')) + sum(values('bem-plain', 'energy'));
  out.set('EN: E: E: 4A', (buildingKwh * annual) / (2000 + 3000));
  out.set('EC: I: B: 2A', (2000 / inputs.publicBuildingFloorAreaM2.value) * 100);

  // EN: EN: WA: 1C tonnes by disposal method over all tonnes weighed
  const landfill = sum(values('wb-landfill', 'tonnage'));
  const recycled = sum(values('wb-recycling', 'tonnage'));
  const waste: Array<[string, number]> = [
    ['Landfill', landfill],
    ['Burnt (open)', 0],
    ['Incinerated', 0],
    ['Open dump', 0],
    ['Recycled', recycled],
    ['Other', 0],
  ];
  for (const [dp, t] of waste) out.set(`EN: EN: WA: 1C|${dp}`, (t / (landfill + recycled)) * 100);
  // EC: ICT: D: 1A one 1.5 km reach with two sensors
  out.set('EC: ICT: D: 1A', (1.5 / inputs.drainageNetworkKm.value) * 100);
  // EC: ICT: ICT: 5C both hotspots reported
  out.set('EC: ICT: ICT: 5C', ['wifi1', 'wifi2'].filter((k) => kept(k).length > 0).length);
  // EC: ICT: ICT: 4C live probes whose mean signal reaches −100 dBm (3G RSCP) / −110 dBm (4G RSRP)
  const probeKeys = ['probe-good', 'probe-edge'];
  const coveredBy = (metric: string, min: number) =>
    (probeKeys.filter((k) => (mean(values(k, metric)) ?? -999) >= min).length / probeKeys.length) * 100;
  out.set('EC: ICT: ICT: 4C|Wireless Broadband Coverage: 3G', coveredBy('rscp', -100));
  out.set('EC: ICT: ICT: 4C|Wireless Broadband Coverage: 4G', coveredBy('rsrp', -110));
  // SC: SH: SA: 5A mean minutes call → arrival; the cancelled incident has none
  const calls = new Map<string, number>();
  const responses: number[] = [];
  for (const e of city.events.get('cad1') ?? []) {
    if (e.type === 'incident_call') calls.set(e.data!.incident, e.ts);
    if (e.type === 'incident_arrival') responses.push((e.ts - calls.get(e.data!.incident)!) / 60_000);
  }
  out.set('SC: SH: SA: 5A', mean(responses));
  // EN: EN: AQ: 2C feeder kWh and heat kWh × their factors, t per capita, annualised
  const kgCo2e =
    consumed * inputs.emissionFactorElectricity.value +
    sum(values('heat1', 'energy')) * inputs.emissionFactorHeat.value;
  out.set('EN: EN: AQ: 2C', ((kgCo2e / 1000) * annual) / pop);
  return { values: out, airCompleteness, airCompletenessAfter };
}

/** PM2.5 mean once the held-back readings of the air station arrived too. */
export function expectedPm25After(city: GeneratedCity): number {
  const xs = [...(city.kept.get('air1') ?? []), ...city.afterClose].map((r) => r.values.pm25!);
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}
