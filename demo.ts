import type { Logger } from './core/logger.ts';
import type { Platform, PlatformAddresses } from './platform.ts';
import { planCity } from './simulators/city-plan.ts';
import { Simulation } from './simulators/simulation.ts';

const DEMO_DISTRICTS = ['Old Town', 'Riverside', 'Harbour', 'University', 'Northgate'];

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
  const plan = planCity({ devices: opts.devices, districts: DEMO_DISTRICTS, seed: 42 });
  const credentials: Array<{
    id: string;
    password: string;
    kind: string;
    attributes?: Record<string, string | number | boolean>;
  }> = [];
  const existing = platform.registry.list({ limit: 1000 }).items.filter((d) => d.id.startsWith('demo-'));
  for (const [i, item] of plan.entries()) {
    const id = `demo-${String(i + 1).padStart(4, '0')}`;
    const found = existing.find((d) => d.id === id);
    if (found) {
      const password = await platform.registry.rotatePassword(id);
      credentials.push({ id, password, kind: found.kind, attributes: found.attributes });
    } else {
      const { device, password } = await platform.registry.provision({ ...item, id });
      credentials.push({ id: device.id, password, kind: device.kind, attributes: device.attributes });
    }
  }
  await seedCityFigures(platform, credentials);
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
 * coverage KPIs divide by), so that per-capita and coverage KPIs have values in the demo. Entered once per
 * data directory, through the same service as the API, and marked as demo estimates.
 */
async function seedCityFigures(
  platform: Platform,
  devices: ReadonlyArray<{ kind: string; attributes?: Record<string, string | number | boolean> }>,
) {
  const service = platform.kpis.service;
  const by = { keyId: 'demo', name: 'demo seed' };
  if (platform.kpis.kpiStore.currentManualValues('input').length > 0) return;
  const year = platform.calendar.local(platform.clock.now()).year;
  await service.updateProfile(
    {
      population: 250_000,
      households: 112_000,
      areaKm2: 96,
      effectiveFrom: `${year}-01-01`,
      source: 'demo estimate',
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
    ['electricityMetersTotal', Math.max(1, count('electricity-smart-meter') * 4), 'meters'],
    ['electricityFeedersTotal', Math.max(1, count('electricity-feeder-meter') + 2), 'feeders'],
    ['waterMetersTotal', Math.max(1, count('water-smart-meter') * 5), 'meters'],
    ['waterSupplyZonesTotal', Math.max(1, count('water-inflow-meter') + 1), 'zones'],
    ['publicBuildingFloorAreaM2', 120_000, 'm²'],
    ['drainageNetworkKm', Math.max(1, Math.round(drainageKm * 6)), 'km'],
    // A European grid mix and a gas-fired heat network, in kg CO2e per kWh delivered.
    ['emissionFactorElectricity', 0.25, 'kg CO2e/kWh'],
    ['emissionFactorHeat', 0.2, 'kg CO2e/kWh'],
  ];
  await service.enterValues(
    inputs.map(([code, value, unit]) => ({
      code,
      dataPoint: null,
      period: String(year),
      value,
      unit,
      dataQuality: 'estimation-with-assumptions' as const,
      source: 'demo estimate',
      evidence: null,
    })),
    by,
  );
}
