import type { Logger } from './core/logger.ts';
import type { Platform, PlatformAddresses } from './platform.ts';
import { type PlannedDevice, planCity } from './simulators/city-plan.ts';
import { Simulation } from './simulators/simulation.ts';

const DEMO_DISTRICTS = ['Old Town', 'Riverside', 'Harbour', 'University', 'Northgate'];
const DEMO_SOURCE = 'demo estimate';

/**
 * The simulated city, one set of figures that the fleet and the city profile share: every household is a
 * water and an electricity customer; the supply zones' bulk inflow meters and the substation feeders are
 * sized from them, so the few customer meters the demo simulates are a sample of the city, scaled up by the
 * KPI formulas (waterMetersTotal, electricityFeedersTotal) rather than divided by the whole population.
 */
export const DEMO_CITY = Object.freeze({
  population: 250_000,
  households: 112_000,
  areaKm2: 96,
  /** Residents per simulated metered household, cycled: a mean of 2.25, near the city's 2.23. */
  householdSizes: [1, 3, 2, 4, 1, 2, 3, 2],
  /** Feeders without a meter (older substations), beside the simulated ones. */
  unmeteredFeeders: 2,
  /** Share of residents living by a main road (EU cities: a fifth to a half above Lden 55 dB). */
  roadsideResidentsShare: 0.3,
  /** Share of residents whose homes are on the district heating network (metered homes are a sample). */
  districtHeatShare: 0.35,
});

/**
 * The demo's devices: `planCity`, then each asset sized from DEMO_CITY (inflow meters share the population,
 * feeders the households, noise monitors the residents they represent, one in three by a main road).
 */
export function planDemoCity(devices: number): PlannedDevice[] {
  const plan = planCity({ devices, districts: DEMO_DISTRICTS, seed: 42 });
  const of = (kind: string) => plan.filter((d) => d.kind === kind);
  const inflows = of('water-inflow-meter');
  const feeders = of('electricity-feeder-meter');
  const monitors = of('noise-monitor');
  const roadside = monitors.filter((_, i) => i % 3 === 0).length;
  const sizes = DEMO_CITY.householdSizes;
  const feederCount = feeders.length + DEMO_CITY.unmeteredFeeders;
  for (const d of inflows)
    d.attributes = { ...d.attributes, residentsServed: Math.round(DEMO_CITY.population / inflows.length) };
  for (const d of feeders)
    d.attributes = { ...d.attributes, customersServed: Math.round(DEMO_CITY.households / feederCount) };
  of('water-smart-meter').forEach((d, i) => {
    d.attributes = { ...d.attributes, residents: sizes[i % sizes.length]! };
  });
  monitors.forEach((d, i) => {
    const isRoadside = i % 3 === 0;
    const share = isRoadside ? DEMO_CITY.roadsideResidentsShare : 1 - DEMO_CITY.roadsideResidentsShare;
    const alike = isRoadside ? roadside : monitors.length - roadside;
    d.attributes = {
      ...d.attributes,
      roadside: isRoadside,
      residentsExposed: Math.round((DEMO_CITY.population * share) / alike),
    };
  });
  return plan;
}

export interface DemoDevice {
  id: string;
  password: string;
  kind: string;
  attributes?: Record<string, string | number | boolean>;
}

/**
 * Provisions the demo city through the registry (the same code path as POST /api/devices) the first time,
 * and reuses the devices on later runs from the same data directory, rotating their passwords (only known
 * at creation); then enters the city figures once. `installedAt` (ms) for devices made now.
 */
export async function provisionDemoCity(
  platform: Platform,
  opts: { devices: number; installedAt?: number },
): Promise<DemoDevice[]> {
  const plan = planDemoCity(opts.devices);
  const credentials: DemoDevice[] = [];
  const existing = platform.registry.list({ limit: 1000 }).items.filter((d) => d.id.startsWith('demo-'));
  for (const [i, item] of plan.entries()) {
    const id = `demo-${String(i + 1).padStart(4, '0')}`;
    const found = existing.find((d) => d.id === id);
    if (found) {
      const password = await platform.registry.rotatePassword(id);
      // A data directory from an older demo: its devices take this city's sizes (inflow, feeders, monitors).
      // (Not when --devices changed and this id now plans another kind: it keeps what it is.)
      const stale =
        found.kind === item.kind &&
        Object.entries(item.attributes).some(([k, v]) => found.attributes[k] !== v);
      const device = stale ? await platform.registry.update(id, { attributes: item.attributes }) : found;
      credentials.push({ id, password, kind: device.kind, attributes: device.attributes });
    } else {
      const { device, password } = await platform.registry.provision({
        ...item,
        id,
        ...(opts.installedAt === undefined ? {} : { installedAt: new Date(opts.installedAt).toISOString() }),
      });
      credentials.push({ id: device.id, password, kind: device.kind, attributes: device.attributes });
    }
  }
  await seedCityFigures(platform, credentials);
  return credentials;
}

/**
 * `npm run demo`: a simulated city on the running platform. Devices are provisioned through the registry
 * (the same code path as POST /api/devices) the first time, then reused on later runs from the same
 * data directory: their passwords are only known at creation, so the demo keeps them in memory and rotates
 * them when it restarts.
 */
export async function runDemo(opts: {
  platform: Platform;
  addresses: PlatformAddresses;
  logger: Logger;
  devices: number;
  speed: number;
}) {
  const { platform, addresses, logger } = opts;
  const credentials = await provisionDemoCity(platform, { devices: opts.devices });
  const key = await platform.apiKeys.create({ role: 'admin', name: `demo ${new Date().toISOString()}` });
  const simulation = new Simulation({
    url: addresses.mqttUrl,
    devices: credentials,
    qos: 1,
    speed: opts.speed,
    seed: 42,
    timezone: platform.config.cityTimezone,
    logger,
  });
  await simulation.start();
  process.stdout.write(
    [
      '',
      `  citymetrics demo: ${credentials.length} simulated devices in ${DEMO_DISTRICTS.length} districts, ${opts.speed}× real time`,
      `  Live page:     ${addresses.httpUrl}/`,
      `  Admin API key: ${key.token}`,
      `  MQTT:          ${addresses.mqttUrl}  (WebSocket: ws://localhost:${addresses.mqttWsPort}/mqtt)`,
      '  Stop with Ctrl-C.',
      '',
    ].join('\n'),
  );
  const stopPlatform = platform.stop.bind(platform);
  // Stop the simulated devices before the platform, so that nothing is left half-sent.
  platform.stop = async () => {
    await simulation.stop();
    await stopPlatform();
  };
}

/**
 * The figures an analyst would enter for a real city (population, households, area, and the totals the
 * coverage KPIs divide by and the sample KPIs scale up to), so that per-capita and coverage KPIs have
 * values in the demo, from DEMO_CITY. Entered once per data directory, through the same service as the
 * API, and marked as demo estimates.
 */
export async function seedCityFigures(
  platform: Platform,
  devices: ReadonlyArray<{ kind: string; attributes?: Record<string, string | number | boolean> }>,
) {
  const service = platform.kpis.service;
  const by = { keyId: 'demo', name: 'demo seed' };
  const entered = platform.kpis.kpiStore.currentManualValues('input');
  // Figures an analyst entered are theirs: the demo only ever replaces its own.
  if (entered.some((m) => m.source !== DEMO_SOURCE)) return;
  const year = platform.calendar.local(platform.clock.now()).year;
  if (entered.length === 0)
    await service.updateProfile(
      {
        population: DEMO_CITY.population,
        households: DEMO_CITY.households,
        areaKm2: DEMO_CITY.areaKm2,
        effectiveFrom: `${year}-01-01`,
        source: DEMO_SOURCE,
        dataQuality: 'estimation-with-assumptions',
      },
      by,
    );
  const count = (kind: string) => devices.filter((d) => d.kind === kind).length;
  const monitoredKm = devices
    .filter((d) => d.kind === 'traffic-counter' && d.attributes?.majorStreet === true)
    .reduce((km, d) => km + Number(d.attributes?.segmentLengthKm ?? 0), 0);
  const drainageKm = devices
    .filter((d) => d.kind === 'drainage-sensor')
    .reduce((km, d) => km + Number(d.attributes?.segmentLengthKm ?? 0), 0);
  // Demo totals: the simulated devices cover a share of each asset class, as in a city mid-roll-out.
  const inputs: Array<[string, number, string]> = [
    ['majorStreetKm', Math.max(1, Math.round(monitoredKm * 2.5)), 'km'],
    ['transitStopsTotal', Math.max(1, count('transit-stop-display') * 3), 'stops'],
    ['intersectionsTotal', Math.max(1, count('traffic-signal-controller') * 2), 'intersections'],
    // Every household is a customer with a meter; the simulated smart meters are some of them.
    ['electricityMetersTotal', DEMO_CITY.households, 'meters'],
    ['electricityFeedersTotal', count('electricity-feeder-meter') + DEMO_CITY.unmeteredFeeders, 'feeders'],
    ['waterMetersTotal', DEMO_CITY.households, 'meters'],
    // Each supply zone has its bulk inflow meter: the system input is measured in full.
    ['waterSupplyZonesTotal', Math.max(1, count('water-inflow-meter')), 'zones'],
    ['districtHeatResidents', Math.round(DEMO_CITY.population * DEMO_CITY.districtHeatShare), 'inhabitants'],
    ['publicBuildingFloorAreaM2', 120_000, 'm²'],
    ['drainageNetworkKm', Math.max(1, Math.round(drainageKm * 6)), 'km'],
    // A European grid mix and a gas-fired heat network, in kg CO2e per kWh delivered.
    ['emissionFactorElectricity', 0.25, 'kg CO2e/kWh'],
    ['emissionFactorHeat', 0.2, 'kg CO2e/kWh'],
  ];
  // An older demo's figures that differ from this city's are entered again (a new version of each).
  const changed = inputs.filter(
    ([code, value]) =>
      !entered.some((m) => m.subject === code && m.period === String(year) && m.value === value),
  );
  if (changed.length === 0) return;
  await service.enterValues(
    changed.map(([code, value, unit]) => ({
      code,
      dataPoint: null,
      period: String(year),
      value,
      unit,
      dataQuality: 'estimation-with-assumptions' as const,
      source: DEMO_SOURCE,
      evidence: null,
    })),
    by,
  );
}
