import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../core/api-client.ts';
import { isCityError } from '../../core/errors.ts';
import { planCity } from '../../simulators/city-plan.ts';
import { lookBackMs } from '../../simulators/command.ts';
import { readCredentialsFile } from '../../simulators/credentials.ts';
import { loadFleet } from '../../simulators/fleet.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/platform-harness.ts';

let t: TestPlatform;
let dir: string;
let client: ApiClient;

const plan = (devices: number) => () => planCity({ devices, districts: ['Old Town', 'Harbour'], seed: 3 });
const total = async () => (await client.listDevices({ limit: 1 })).total;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'citymetrics-fleet-'));
  t = await startTestPlatform();
  client = new ApiClient({ baseUrl: t.addresses.httpUrl, token: t.adminToken });
});

afterAll(async () => {
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the simulator fleet file', () => {
  it('provisions once, reuses, replaces only the devices the platform lost, adds what is asked beyond', async () => {
    const file = join(dir, 'fleet.json');
    const first = await loadFleet({ file, devices: 3, client, plan: plan(3) });
    expect(first).toMatchObject({ reused: 0, replaced: 0, added: 3 });
    expect(await total()).toBe(3);
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const second = await loadFleet({ file, devices: 3, client, plan: plan(3) });
    expect(second).toMatchObject({ reused: 3, replaced: 0, added: 0 });
    expect(second.devices.map((d) => d.id)).toEqual(first.devices.map((d) => d.id));
    expect(await total()).toBe(3);

    const lost = first.devices[1]!;
    await client.deleteDevice(lost.id);
    const third = await loadFleet({ file, devices: 3, client, plan: plan(3) });
    expect(third).toMatchObject({ reused: 2, replaced: 1, added: 0 });
    expect(third.devices[0]!.id).toBe(first.devices[0]!.id);
    expect(third.devices[1]!.id).not.toBe(lost.id);
    expect(third.devices[1]!.kind).toBe(lost.kind);
    expect(third.devices[2]!.id).toBe(first.devices[2]!.id);
    expect(readCredentialsFile(file).map((d) => d.id)).toEqual(third.devices.map((d) => d.id));
    expect(await total()).toBe(3);

    const bigger = await loadFleet({ file, devices: 5, client, plan: plan(5) });
    expect(bigger).toMatchObject({ reused: 3, replaced: 0, added: 2 });
    expect(await total()).toBe(5);

    const smaller = await loadFleet({ file, devices: 2, client, plan: plan(2) });
    expect(smaller.devices.map((d) => d.id)).toEqual(bigger.devices.slice(0, 2).map((d) => d.id));
    expect(readCredentialsFile(file)).toHaveLength(5);
  });

  it('provisions a fleet installed early enough for the late and clock-skew faults it will send', async () => {
    // an hour late at most, or ten minutes behind: installed that long ago plus a minute
    const faults = { faultLate: 0.1, lateBy: 3600, faultClockSkew: 0.2, clockSkew: -600 };
    expect(lookBackMs(faults)).toBe(3_660_000);
    expect(lookBackMs({ ...faults, faultLate: 0 })).toBe(660_000);
    expect(lookBackMs({ ...faults, faultLate: 0, clockSkew: 600 })).toBe(60_000);
    const installedAt = Date.parse('2026-01-01T00:00:00Z');
    const fleet = await loadFleet({
      file: join(dir, 'late.json'),
      devices: 2,
      client,
      plan: plan(2),
      installedAt,
    });
    for (const d of fleet.devices) {
      const got = (await client.listDevices({ q: d.id })).items.find((x) => x.id === d.id) as
        | { installedAt?: string }
        | undefined;
      expect(got?.installedAt, d.id).toBe(new Date(installedAt).toISOString());
    }
  });

  it('without a key uses the stored devices unchecked and refuses to provision', async () => {
    const file = join(dir, 'keyless.json');
    await loadFleet({ file, devices: 2, client, plan: plan(2) });
    const keyless = await loadFleet({ file, devices: 2, client: null, plan: plan(2) });
    expect(keyless).toMatchObject({ reused: 2, added: 0 });
    const err = await loadFleet({ file, devices: 4, client: null, plan: plan(4) }).catch((e: unknown) => e);
    expect(isCityError(err) && err.code).toBe('API_UNAUTHENTICATED');
    expect(isCityError(err) && err.fix).toContain('--token');
  });
});
