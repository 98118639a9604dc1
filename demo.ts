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
