import { chmodSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import type { ApiClient } from '../core/api-client.ts';
import { CityError } from '../core/errors.ts';
import type { PlannedDevice } from './city-plan.ts';

export { DEFAULT_CITY_CENTRE, type PlannedDevice, planCity } from './city-plan.ts';

/** What a virtual device needs to log in, as kept in a credentials file. */
export const deviceCredentialSchema = z.object({
  id: z.string().min(1).max(64),
  password: z.string().min(1),
  kind: z.string().min(1),
  district: z.string().optional(),
  name: z.string().optional(),
  location: z.object({ lat: z.number(), lon: z.number() }).optional(),
  attributes: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
});

export const credentialsFileSchema = z.object({
  version: z.literal(1),
  api: z.string().optional(),
  createdAt: z.string().optional(),
  devices: z.array(deviceCredentialSchema),
});

export type DeviceCredential = z.infer<typeof deviceCredentialSchema>;

/** Reads a credentials file written by `writeCredentialsFile` (or by hand: `{ version: 1, devices: [...] }`). */
export function readCredentialsFile(path: string): DeviceCredential[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new CityError('SIMULATOR_CREDENTIALS_INVALID', `cannot read credentials file ${path}: ${why}`, {
      cause: err,
    });
  }
  // A bare array of devices is accepted too: handy for hand-written files.
  const parsed = credentialsFileSchema.safeParse(Array.isArray(raw) ? { version: 1, devices: raw } : raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new CityError(
      'SIMULATOR_CREDENTIALS_INVALID',
      `credentials file ${path} is invalid:\n  - ${problems.join('\n  - ')}`,
      {
        details: problems,
      },
    );
  }
  return parsed.data.devices;
}

/** Writes the credentials (passwords in clear: the file is made readable by its owner only), atomically. */
export function writeCredentialsFile(path: string, devices: readonly DeviceCredential[], api?: string): void {
  const body = { version: 1, api, createdAt: new Date().toISOString(), devices };
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

export interface ProvisionOptions {
  /** The API client, with an admin key. */
  client: ApiClient;
  plan: readonly PlannedDevice[];
  /** Requests in flight at once. */
  concurrency?: number;
  /** installedAt of every device (ms); default the provisioning time */
  installedAt?: number;
  onProgress?: (done: number, total: number) => void;
}

/** Provisions every planned device through `POST /api/devices`; returns their credentials in plan order. */
export async function provisionDevices(options: ProvisionOptions): Promise<DeviceCredential[]> {
  const results: DeviceCredential[] = new Array(options.plan.length);
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < options.plan.length) {
      const index = next++;
      const item = options.plan[index]!;
      const installedAt = options.installedAt;
      const created = await options.client.provisionDevice(
        installedAt === undefined ? item : { ...item, installedAt: new Date(installedAt).toISOString() },
      );
      results[index] = {
        id: created.id,
        password: created.password,
        kind: item.kind,
        district: item.district,
        name: item.name,
        location: item.location,
        attributes: item.attributes,
      };
      done++;
      options.onProgress?.(done, options.plan.length);
    }
  };
  const workers = Math.max(1, Math.min(options.concurrency ?? 8, options.plan.length));
  await Promise.all(Array.from({ length: workers }, () => worker()));
  return results;
}
