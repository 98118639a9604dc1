import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ApiClient } from '../core/api-client.ts';
import { loadConfig } from '../core/config.ts';
import { defaultFix } from '../core/error-fixes.ts';
import { CityError } from '../core/errors.ts';
import type { PlannedDevice } from './city-plan.ts';
import {
  type DeviceCredential,
  provisionDevices,
  readCredentialsFile,
  writeCredentialsFile,
} from './credentials.ts';

/** Where `simulate` keeps its fleet when no --fleet is given: next to the platform's own data. */
export function defaultFleetFile(env: NodeJS.ProcessEnv = process.env): string {
  let dataDir = env.DATA_DIR || './data';
  try {
    dataDir = loadConfig(env).dataDir;
  } catch {
    // Another setting may be invalid for a platform; the simulator only needs DATA_DIR.
  }
  return join(dataDir, 'simulator-fleet.json');
}

export interface FleetOptions {
  file: string;
  /** Devices wanted in this run. */
  devices: number;
  /** With an admin key: checks the stored devices still exist and provisions what is missing. */
  client: ApiClient | null;
  /** The city to provision from when the file holds fewer devices than wanted (called only then). */
  plan: () => readonly PlannedDevice[];
  /** When devices provisioned now were installed (ms): early enough for the oldest reading they send. */
  installedAt?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface Fleet {
  devices: DeviceCredential[];
  /** Stored devices used as they were. */
  reused: number;
  /** Stored devices the platform no longer knows, provisioned again from their stored plan. */
  replaced: number;
  /** Devices beyond those stored, provisioned from the plan. */
  added: number;
}

const planOf = (d: DeviceCredential): PlannedDevice => ({
  kind: d.kind,
  district: d.district ?? 'Old Town',
  name: d.name ?? d.id,
  location: d.location ?? { lat: 0, lon: 0 },
  attributes: d.attributes ?? {},
});

/**
 * The fleet of a run: the devices of the fleet file, checked against the platform, and only what is
 * missing provisioned (a second run provisions nothing). The file is rewritten only when it changed.
 */
export async function loadFleet(options: FleetOptions): Promise<Fleet> {
  const stored = existsSync(options.file) ? readCredentialsFile(options.file) : [];
  const wanted = stored.slice(0, options.devices);
  const more = Math.max(0, options.devices - stored.length);
  if (options.client === null) {
    if (more > 0)
      throw new CityError(
        'API_UNAUTHENTICATED',
        stored.length === 0
          ? `provisioning ${options.devices} device(s) needs an admin API key`
          : `${options.file} holds ${stored.length} devices; provisioning ${more} more needs an admin API key`,
        {
          fix:
            stored.length === 0
              ? defaultFix('API_UNAUTHENTICATED')
              : `${defaultFix('API_UNAUTHENTICATED')}; or run the ${stored.length} stored devices with --devices ${stored.length}`,
        },
      );
    // Without a key the platform cannot be asked: the broker's answer to the first device will tell.
    return { devices: wanted, reused: wanted.length, replaced: 0, added: 0 };
  }
  const known = new Set((await options.client.allDevices()).map((d) => d.id));
  const missing = wanted.flatMap((d, index) => (known.has(d.id) ? [] : [index]));
  const extra = more > 0 ? options.plan().slice(stored.length, options.devices) : [];
  const toProvision = [...missing.map((i) => planOf(wanted[i]!)), ...extra];
  if (toProvision.length === 0) return { devices: wanted, reused: wanted.length, replaced: 0, added: 0 };
  const made = await provisionDevices({
    client: options.client,
    plan: toProvision,
    ...(options.installedAt !== undefined ? { installedAt: options.installedAt } : {}),
    onProgress: options.onProgress,
  });
  const devices = [...wanted];
  missing.forEach((index, i) => {
    devices[index] = made[i]!;
  });
  devices.push(...made.slice(missing.length));
  writeCredentialsFile(options.file, [...devices, ...stored.slice(devices.length)], options.client.baseUrl);
  return {
    devices,
    reused: wanted.length - missing.length,
    replaced: missing.length,
    added: extra.length,
  };
}
