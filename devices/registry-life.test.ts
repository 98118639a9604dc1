import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.ts';
import { CityError } from '../core/errors.ts';
import { silentLogger } from '../core/logger.ts';
import { makeTempDir } from '../test/helpers/temp-dir.ts';
import { excludedRanges } from './device-life.ts';
import { KindCatalogue } from './kind-catalogue.ts';
import { type DeviceLifeChanged, DeviceRegistry } from './registry.ts';

const NOW = Date.parse('2026-12-10T12:00:00Z');
const OCT1 = Date.parse('2026-10-01T00:00:00Z');
const NOV1 = Date.parse('2026-11-01T00:00:00Z');
const DEC1 = Date.parse('2026-12-01T00:00:00Z');
const kinds = new KindCatalogue();

let dir: ReturnType<typeof makeTempDir>;
let clock: ManualClock;
const open: DeviceRegistry[] = [];

function openRegistry(): DeviceRegistry {
  const registry = DeviceRegistry.open({
    dataDir: dir.path,
    kinds,
    clock,
    logger: silentLogger(),
    scryptCost: 1024,
  });
  open.push(registry);
  return registry;
}

async function cityError(fn: () => unknown): Promise<CityError> {
  try {
    await fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CityError);
    return err as CityError;
  }
  throw new Error('expected a CityError, nothing was thrown');
}

beforeEach(() => {
  dir = makeTempDir('registry-life-');
  clock = new ManualClock(NOW);
});

afterEach(async () => {
  for (const r of open.splice(0)) await r.close();
  dir.remove();
});

describe('installed interval at provisioning', () => {
  it('defaults to the provisioning time, open-ended', async () => {
    const registry = openRegistry();
    const { device } = await registry.provision({ kind: 'noise-monitor', district: 'C' });
    expect(device).toMatchObject({ createdAt: NOW, installedAt: NOW, removedAt: null });
  });

  it('takes an earlier start for a back-fill, in ISO with a zone or epoch ms, and keeps it across a reopen', async () => {
    const registry = openRegistry();
    const a = await registry.provision({
      kind: 'air-quality-station',
      district: 'C',
      id: 'aq-1',
      installedAt: '2026-10-01T02:00:00+02:00',
    });
    const b = await registry.provision({ kind: 'air-quality-station', district: 'C', installedAt: NOV1 });
    expect(a.device.installedAt).toBe(OCT1);
    expect(b.device.installedAt).toBe(NOV1);
    await registry.close();
    expect(openRegistry().get('aq-1')).toMatchObject({ installedAt: OCT1, removedAt: null, createdAt: NOW });
  });

  it('refuses an empty interval, a zone-less time and a time before 2000 as API_VALIDATION', async () => {
    const registry = openRegistry();
    const empty = await cityError(() =>
      registry.provision({ kind: 'noise-monitor', district: 'C', installedAt: NOV1, removedAt: NOV1 }),
    );
    expect(empty).toMatchObject({ code: 'API_VALIDATION', field: 'removedAt' });
    const local = await cityError(() =>
      registry.provision({ kind: 'noise-monitor', district: 'C', installedAt: '2026-10-01T00:00:00' }),
    );
    expect(local).toMatchObject({ code: 'API_VALIDATION', field: 'installedAt' });
    const early = await cityError(() =>
      registry.provision({ kind: 'noise-monitor', district: 'C', installedAt: '1999-12-31T23:59:59Z' }),
    );
    expect(early).toMatchObject({ code: 'API_VALIDATION', field: 'installedAt' });
    expect(registry.count()).toBe(0);
  });
});

describe('changing the interval', () => {
  it('records each change with who, when, before and after, and tells listeners', async () => {
    const registry = openRegistry();
    const { device } = await registry.provision({ kind: 'noise-monitor', district: 'C', id: 'noise-1' });
    const told: DeviceLifeChanged[] = [];
    registry.onLifeChanged((c) => told.push(c));
    clock.set(NOW + 1_000);
    await registry.update('noise-1', { installedAt: '2026-10-01T00:00:00Z' }, { by: 'ops (k1)' });
    clock.set(NOW + 2_000);
    const ended = await registry.update('noise-1', { removedAt: NOW + 86_400_000 }, { by: 'ops (k2)' });
    expect(ended).toMatchObject({ installedAt: OCT1, removedAt: NOW + 86_400_000 });
    // The same interval again is no change.
    await registry.update('noise-1', { installedAt: OCT1 }, { by: 'ops (k3)' });
    const history = await registry.lifeHistory('noise-1');
    expect(history).toEqual([
      {
        deviceId: 'noise-1',
        at: NOW + 1_000,
        by: 'ops (k1)',
        action: 'update',
        before: { installedAt: device.installedAt, removedAt: null },
        after: { installedAt: OCT1, removedAt: null },
        forced: false,
      },
      {
        deviceId: 'noise-1',
        at: NOW + 2_000,
        by: 'ops (k2)',
        action: 'update',
        before: { installedAt: OCT1, removedAt: null },
        after: { installedAt: OCT1, removedAt: NOW + 86_400_000 },
        forced: false,
      },
    ]);
    expect(told.map((c) => [c.kind, c.before, c.after])).toEqual([
      ['noise-monitor', { installedAt: NOW, removedAt: null }, { installedAt: OCT1, removedAt: null }],
      [
        'noise-monitor',
        { installedAt: OCT1, removedAt: null },
        { installedAt: OCT1, removedAt: NOW + 86_400_000 },
      ],
    ]);
  });

  it('refuses a change that leaves stored readings outside, unless forced, and then changes nothing else', async () => {
    const registry = openRegistry();
    await registry.provision({ kind: 'noise-monitor', district: 'C', id: 'noise-1', installedAt: OCT1 });
    const asked: Array<ReadonlyArray<{ from: number; to: number | null }>> = [];
    const storedReadings = async (
      _id: string,
      ranges: ReadonlyArray<{ from: number; to: number | null }>,
    ) => {
      asked.push(ranges);
      return 7;
    };
    const refused = await cityError(() =>
      registry.update('noise-1', { installedAt: NOV1, name: 'Renamed' }, { by: 'ops', storedReadings }),
    );
    expect(refused).toMatchObject({
      code: 'DEVICES_LIFE_EXCLUDES_READINGS',
      field: 'installedAt',
      details: { readings: 7 },
    });
    expect(asked).toEqual([[{ from: OCT1, to: NOV1 }]]);
    expect(registry.get('noise-1')).toMatchObject({ installedAt: OCT1, name: 'Noise monitor noise-1' });
    expect(await registry.lifeHistory('noise-1')).toEqual([]);

    await registry.update('noise-1', { installedAt: NOV1, force: true }, { by: 'ops', storedReadings });
    expect(registry.get('noise-1')?.installedAt).toBe(NOV1);
    expect((await registry.lifeHistory('noise-1'))[0]).toMatchObject({ forced: true });
    // Widening excludes nothing: no question asked.
    await registry.update('noise-1', { installedAt: OCT1 }, { by: 'ops', storedReadings });
    expect(asked).toHaveLength(2);
  });
});

describe('decommissioning', () => {
  it('ends the interval, revokes the credentials and keeps the device and its history', async () => {
    const registry = openRegistry();
    const { device, password } = await registry.provision({
      kind: 'water-smart-meter',
      district: 'C',
      installedAt: OCT1,
    });
    expect(await registry.verifyCredentials(device.id, password)).toBe('ok');
    const revoked: string[] = [];
    registry.onCredentialsRevoked((id) => revoked.push(id));
    const removedAt = Date.parse('2026-12-05T00:00:00Z');
    const after = await registry.decommission(device.id, { at: '2026-12-05T00:00:00Z' }, { by: 'ops (k1)' });
    expect(after).toMatchObject({ installedAt: OCT1, removedAt, status: 'active' });
    expect(revoked).toEqual([device.id]);
    expect(await registry.verifyCredentials(device.id, password)).toBe('disabled');
    expect(await registry.verifyCredentials(device.id, 'wrong')).toBe('bad-password');
    expect(await registry.lifeHistory(device.id)).toMatchObject([
      { action: 'decommission', by: 'ops (k1)', after: { installedAt: OCT1, removedAt } },
    ]);
    const again = await cityError(() => registry.decommission(device.id));
    expect(again.code).toBe('API_CONFLICT');
    await registry.close();
    expect(openRegistry().get(device.id)).toMatchObject({ removedAt, installedAt: OCT1 });
  });

  it('defaults to now, refuses a future time and one not after the start', async () => {
    const registry = openRegistry();
    const { device } = await registry.provision({ kind: 'noise-monitor', district: 'C', installedAt: DEC1 });
    const future = await cityError(() => registry.decommission(device.id, { at: NOW + 1 }));
    expect(future).toMatchObject({ code: 'API_VALIDATION', field: 'at' });
    const beforeStart = await cityError(() => registry.decommission(device.id, { at: NOV1 }));
    expect(beforeStart).toMatchObject({ code: 'API_VALIDATION', field: 'removedAt' });
    expect((await registry.decommission(device.id)).removedAt).toBe(NOW);
  });

  it('a planned removal lets the device in until it comes', async () => {
    const registry = openRegistry();
    const { device, password } = await registry.provision({ kind: 'noise-monitor', district: 'C' });
    await registry.update(device.id, { removedAt: NOW + 60_000 });
    expect(await registry.verifyCredentials(device.id, password)).toBe('ok');
    clock.set(NOW + 60_000);
    expect(await registry.verifyCredentials(device.id, password)).toBe('disabled');
  });
});

describe('excludedRanges', () => {
  const H = 3_600_000;
  it.each([
    ['start moved later', [0, null], [2 * H, null], [[0, 2 * H]]],
    ['start moved earlier', [2 * H, null], [0, null], []],
    ['end set', [0, null], [0, 5 * H], [[5 * H, null]]],
    ['end moved earlier', [0, 9 * H], [0, 5 * H], [[5 * H, 9 * H]]],
    ['end moved later', [0, 5 * H], [0, 9 * H], []],
    ['end removed', [0, 5 * H], [0, null], []],
    [
      'both',
      [0, 10 * H],
      [2 * H, 8 * H],
      [
        [0, 2 * H],
        [8 * H, 10 * H],
      ],
    ],
    ['moved wholly past the old end', [0, 3 * H], [5 * H, null], [[0, 3 * H]]],
  ] as const)('%s', (_name, [bi, br], [ai, ar], expected) => {
    expect(excludedRanges({ installedAt: bi, removedAt: br }, { installedAt: ai, removedAt: ar })).toEqual(
      expected.map(([from, to]) => ({ from, to })),
    );
  });
});
