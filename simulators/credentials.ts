import { chmodSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
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
  /** Base URL of the citymetrics HTTP API, e.g. http://localhost:3000 */
  api: string;
  /** An admin API key. */
  token: string;
  plan: readonly PlannedDevice[];
  /** Requests in flight at once. */
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
  /** For tests and proxies; defaults to the global fetch. */
  fetchImpl?: typeof fetch;
}

/** Provisions every planned device through `POST {api}/api/devices`; returns their credentials in plan order. */
export async function provisionDevices(options: ProvisionOptions): Promise<DeviceCredential[]> {
  const doFetch = options.fetchImpl ?? fetch;
  const url = new URL('/api/devices', options.api).toString();
  const results: DeviceCredential[] = new Array(options.plan.length);
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < options.plan.length) {
      const index = next++;
      const item = options.plan[index]!;
      results[index] = await provisionOne(doFetch, url, options, item);
      done++;
      options.onProgress?.(done, options.plan.length);
    }
  };
  const workers = Math.max(1, Math.min(options.concurrency ?? 8, options.plan.length));
  await Promise.all(Array.from({ length: workers }, () => worker()));
  return results;
}

async function provisionOne(
  doFetch: typeof fetch,
  url: string,
  options: ProvisionOptions,
  item: PlannedDevice,
): Promise<DeviceCredential> {
  let res: Response;
  try {
    res = await doFetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${options.token}` },
      body: JSON.stringify(item),
    });
  } catch (err) {
    throw new CityError(
      'SIMULATOR_API_UNREACHABLE',
      `cannot reach the citymetrics API at ${options.api} (${causeOf(err)}): start the platform (npm start) or pass --api <url>`,
      { cause: err },
    );
  }
  const body = (await res.json().catch(() => null)) as Record<string, unknown> | null;
  if (res.status === 401) {
    throw new CityError(
      'API_UNAUTHENTICATED',
      'the API refused the token: pass an admin API key with --token or the CITYMETRICS_TOKEN environment variable',
    );
  }
  if (res.status === 403) {
    throw new CityError(
      'API_FORBIDDEN',
      'the API key may not provision devices: use a key with the admin role',
    );
  }
  if (!res.ok) {
    const detail = errorText(body) ?? `HTTP ${res.status}`;
    throw new CityError(
      res.status >= 500 ? 'API_INTERNAL' : 'API_VALIDATION',
      `provisioning ${item.kind} in ${item.district} failed: ${detail}`,
      {
        details: body,
      },
    );
  }
  // The API answers `{ id, password, ... }`; accept `{ device: { id, ... }, password }` too.
  const device = (body?.device ?? body) as Record<string, unknown> | null;
  const id = device?.id;
  const password = body?.password ?? device?.password;
  if (typeof id !== 'string' || typeof password !== 'string') {
    throw new CityError('API_INTERNAL', 'the API answered without a device id and password');
  }
  return {
    id,
    password,
    kind: item.kind,
    district: item.district,
    name: item.name,
    attributes: item.attributes,
  };
}

function causeOf(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message;
}

function errorText(body: Record<string, unknown> | null): string | undefined {
  if (body === null) return undefined;
  const error = (body.error ?? body) as Record<string, unknown>;
  const parts = [error.code, error.message, error.field].filter((p) => typeof p === 'string');
  return parts.length > 0 ? parts.join(': ') : undefined;
}
