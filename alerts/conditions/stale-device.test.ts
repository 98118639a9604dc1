import { describe, expect, it } from 'vitest';
import type { DeviceRecord } from '../../core/ports/device-directory.ts';
import { ruleConditionSchema, type StaleDevice } from '../alert-types.ts';
import { judgeStaleDevices } from './stale-device.ts';

const NOW = Date.parse('2026-11-12T08:00:00Z');
const MIN = 60_000;

const device = (id: string, over: Partial<DeviceRecord> = {}): DeviceRecord => ({
  id,
  kind: 'air-quality-station',
  name: `Station ${id}`,
  district: 'Old Town',
  location: null,
  attributes: {},
  status: 'active',
  createdAt: NOW - 86_400_000,
  installedAt: NOW - 86_400_000,
  removedAt: null,
  lastSeenAt: NOW - MIN,
  online: false,
  ...over,
});

const rule = (over: Record<string, unknown> = {}) =>
  ruleConditionSchema.parse({ kind: 'stale-device', intervals: 3, ...over }) as StaleDevice;

// air quality reports every 60 s, a water meter every 900 s (the test's own catalogue of intervals)
const intervals: Record<string, number> = { 'air-quality-station': 60, 'water-meter': 900 };
const intervalOf = (kind: string) => intervals[kind];

describe('stale device', () => {
  it('is stale once silent for more than `intervals` of its kind, by its own interval', () => {
    const judged = [
      ...judgeStaleDevices(
        rule(),
        [
          device('a', { lastSeenAt: NOW - 3 * MIN }), // exactly 3 intervals: not yet
          device('b', { lastSeenAt: NOW - 3 * MIN - 1_000 }),
          device('w', { kind: 'water-meter', lastSeenAt: NOW - 30 * MIN }), // 2 of 15-minute intervals
        ],
        intervalOf,
        NOW,
      ),
    ];
    expect(judged.map((j) => [j.device.id, j.stale, j.silentSec])).toEqual([
      ['a', false, 180],
      ['b', true, 181],
      ['w', false, 1800],
    ]);
    expect(judged[1]!.message).toBe('Station b: no reading for 3 min');
  });

  it('judges a device that never reported from its provisioning, and says so', () => {
    const [j] = [
      ...judgeStaleDevices(
        rule(),
        [device('n', { lastSeenAt: null, createdAt: NOW - 10 * MIN })],
        intervalOf,
        NOW,
      ),
    ];
    expect(j).toMatchObject({ stale: true, silentSec: 600 });
    expect(j!.message).toBe('Station n has sent no reading since it was provisioned');
  });

  it('watches only active devices of the kind and district named, and of a kind with an interval', () => {
    const devices = [
      device('a'),
      device('off', { status: 'disabled' }),
      device('far', { district: 'Harbour' }),
      device('w', { kind: 'water-meter' }),
      device('u', { kind: 'unknown-kind' }),
    ];
    const ids = (c: StaleDevice) =>
      [...judgeStaleDevices(c, devices, intervalOf, NOW)].map((j) => j.device.id);
    expect(ids(rule())).toEqual(['a', 'far', 'w']);
    expect(ids(rule({ district: 'Old Town' }))).toEqual(['a', 'w']);
    expect(ids(rule({ deviceKind: 'water-meter' }))).toEqual(['w']);
  });
});
