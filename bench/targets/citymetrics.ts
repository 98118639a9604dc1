import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { systemClock } from '../../core/clock.ts';
import { testConfig } from '../../core/config.ts';
import { createLogger, silentLogger } from '../../core/logger.ts';
import { KindCatalogue } from '../../devices/kind-catalogue.ts';
import { DeviceRegistry, REGISTRY_FILE_NAME } from '../../devices/registry.ts';
import { buildPlatform } from '../../platform.ts';
import type { DeviceLogin } from '../load-generator.ts';
import { benchDeviceIds, type Target, type TargetOptions } from './target.ts';

/**
 * The per-device rate limit (default 50 messages/s) is raised: the benchmark's ~100 devices each publish
 * hundreds of readings a second, standing in for a city's thousands of devices that publish once a minute.
 * Everything else is the default configuration of `npm start`.
 */
export const BENCH_CONFIG_OVERRIDES = { deviceRateLimitPerSec: 1_000_000 } as const;

/**
 * A cheap scrypt cost for the benchmark devices' passwords: it changes only how long a login takes (each
 * hash records its own cost), not the message path. At the default cost 100 logins take ~9 s, 50 000 hours.
 */
const BENCH_SCRYPT_COST = 1024;

/** Provisions `n` air-quality stations into `dir` once; their passwords are returned to the generator. */
export async function provisionDevices(dir: string, n: number): Promise<DeviceLogin[]> {
  mkdirSync(dir, { recursive: true });
  const registry = DeviceRegistry.open({
    dataDir: dir,
    kinds: new KindCatalogue(),
    clock: systemClock,
    logger: silentLogger(),
    scryptCost: BENCH_SCRYPT_COST,
  });
  try {
    const logins: DeviceLogin[] = [];
    const ids = benchDeviceIds(n);
    const districts = ['Old Town', 'Harbour', 'North', 'University', 'Riverside'];
    for (let i = 0; i < ids.length; i += 200) {
      const batch = ids.slice(i, i + 200);
      const done = await Promise.all(
        batch.map((id, k) =>
          registry.provision({
            kind: 'air-quality-station',
            district: districts[(i + k) % districts.length]!,
            id,
          }),
        ),
      );
      for (const r of done) logins.push({ id: r.device.id, username: r.device.id, password: r.password });
    }
    return logins;
  } finally {
    registry.close();
  }
}

/**
 * Scenario 3: the real pipeline as `npm start` builds it (authentication, ACL, validation, units, durable
 * log, roll-ups, live push). The consumer is a listener on the platform's 'readings' event, emitted once
 * the values are durable in the log (when a QoS 1 PUBACK may go out).
 */
export async function startCitymetrics(o: TargetOptions & { logins: DeviceLogin[] }): Promise<Target> {
  mkdirSync(o.dataDir, { recursive: true });
  if (o.registryTemplate !== undefined)
    copyFileSync(join(o.registryTemplate, REGISTRY_FILE_NAME), join(o.dataDir, REGISTRY_FILE_NAME));
  const config = testConfig({
    dataDir: o.dataDir,
    logLevel: 'warn',
    // testConfig sets ephemeral ports on loopback; the flush interval stays at the default (testConfig keeps it).
    ...BENCH_CONFIG_OVERRIDES,
  });
  const platform = await buildPlatform({ config, logger: createLogger(config.logLevel), clock: systemClock });
  platform.events.on('readings', function countDurable(r) {
    const first = r.values[0];
    if (first !== undefined) o.counter.record(first.ts, r.values.length, Date.now());
  });
  const viewer = await platform.apiKeys.create({ role: 'viewer', name: 'bench' });
  const addresses = await platform.start();
  return {
    port: addresses.mqttPort,
    host: '127.0.0.1',
    devices: o.logins,
    pids: [process.pid],
    http: { url: addresses.httpUrl, token: viewer.token },
    storeBacklog: () => platform.ingest.stats().backlog,
    drain: () => platform.ingest.drain(),
    stop: () => platform.stop(),
  };
}
