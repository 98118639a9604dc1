import type { DeviceRecord } from '../../core/ports/device-directory.ts';
import type { StaleDevice } from '../alert-types.ts';

/** One active device judged against a stale-device rule. */
export interface StaleJudgement {
  device: DeviceRecord;
  stale: boolean;
  /** Seconds since its last reading (or its provisioning, if it never sent one). */
  silentSec: number;
  message: string;
}

/**
 * The devices a stale-device rule watches (active, of its kind and district when it names them), each
 * stale once it has sent nothing for `intervals` of its kind's reporting interval. A kind the catalogue
 * does not know has no interval, so its devices are not judged.
 */
export function* judgeStaleDevices(
  c: StaleDevice,
  devices: Iterable<DeviceRecord>,
  intervalSecOf: (kind: string) => number | undefined,
  now: number,
): Generator<StaleJudgement> {
  for (const device of devices) {
    if (device.status !== 'active') continue;
    if (c.deviceKind !== undefined && device.kind !== c.deviceKind) continue;
    if (c.district !== undefined && device.district !== c.district) continue;
    const interval = intervalSecOf(device.kind);
    if (interval === undefined) continue;
    const silentMs = now - (device.lastSeenAt ?? device.createdAt);
    yield {
      device,
      stale: silentMs > c.intervals * interval * 1000,
      silentSec: Math.round(silentMs / 1000),
      message:
        device.lastSeenAt === null
          ? `${device.name} has sent no reading since it was provisioned`
          : `${device.name}: no reading for ${Math.round(silentMs / 60_000)} min`,
    };
  }
}
