import type { DeviceLife, StoredDevice } from '../core/ports/registry-persistence.ts';

/**
 * Takes another node's stored state of a device into the in-memory entry, in place, so holders of the
 * live record (gateway sessions) see it. `online` stays this node's own; the last-seen time only moves
 * forward. Says whether the device's credentials changed, so its sessions here can be revoked, and whether its
 installed interval changed (the KPIs of the periods it reaches are restated).
 */
export function mergeStored(
  entry: StoredDevice,
  stored: StoredDevice,
): { rotated: boolean; disabled: boolean; life: DeviceLife | null } {
  const current = entry.record;
  const rotated = entry.credentialHash !== stored.credentialHash;
  const disabled = current.status === 'active' && stored.record.status === 'disabled';
  const life =
    current.installedAt !== stored.record.installedAt || current.removedAt !== stored.record.removedAt
      ? { installedAt: current.installedAt, removedAt: current.removedAt }
      : null;
  entry.credentialHash = stored.credentialHash;
  const seen = stored.record.lastSeenAt;
  Object.assign(current, {
    name: stored.record.name,
    district: stored.record.district,
    location: stored.record.location,
    attributes: stored.record.attributes,
    devEui: stored.record.devEui ?? null,
    status: stored.record.status,
    installedAt: stored.record.installedAt,
    removedAt: stored.record.removedAt,
    disabledAt: stored.record.disabledAt ?? null,
    lastSeenAt:
      current.lastSeenAt === null || (seen !== null && seen > current.lastSeenAt) ? seen : current.lastSeenAt,
  });
  return { rotated, disabled, life };
}
