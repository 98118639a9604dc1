import type { AttributeValue } from '../core/ports/device-directory.ts';
import type { DeviceLifeChange, StoredDevice } from '../core/ports/registry-persistence.ts';

/**
 * A device row as both registry stores hold it. They differ in two columns only: attributes are JSON
 * text in SQLite and jsonb in PostgreSQL, and `forced` is 0/1 in one and a boolean in the other.
 */
export interface DeviceRow<A> {
  id: string;
  kind: string;
  name: string;
  district: string;
  lat: number | null;
  lon: number | null;
  attributes: A;
  status: string;
  created_at: number;
  last_seen_at: number | null;
  credential_hash: string;
  dev_eui: string | null;
  installed_at: number;
  removed_at: number | null;
  disabled_at: number | null;
}

export interface LifeRow {
  device_id: string;
  changed_at: number;
  changed_by: string;
  action: string;
  old_installed_at: number;
  old_removed_at: number | null;
  new_installed_at: number;
  new_removed_at: number | null;
  forced: number | boolean;
}

export const toLifeChange = (r: LifeRow): DeviceLifeChange => ({
  deviceId: r.device_id,
  at: r.changed_at,
  by: r.changed_by,
  action: r.action === 'decommission' ? 'decommission' : 'update',
  before: { installedAt: r.old_installed_at, removedAt: r.old_removed_at },
  after: { installedAt: r.new_installed_at, removedAt: r.new_removed_at },
  forced: r.forced === true || r.forced === 1,
});

/**
 * The stored device of a row whose attributes were read (`attributes`); a status that is neither active
 * nor disabled is the store's corruption, reported by `corrupt`.
 */
export function toStoredDevice(
  row: DeviceRow<unknown>,
  attributes: Record<string, AttributeValue>,
  corrupt: (detail: string) => Error,
): StoredDevice {
  if (row.status !== 'active' && row.status !== 'disabled') throw corrupt(`device ${row.id}: bad status`);
  return {
    credentialHash: row.credential_hash,
    record: {
      id: row.id,
      kind: row.kind,
      name: row.name,
      district: row.district,
      location: row.lat === null || row.lon === null ? null : Object.freeze({ lat: row.lat, lon: row.lon }),
      attributes: Object.freeze(attributes),
      devEui: row.dev_eui,
      status: row.status,
      createdAt: row.created_at,
      installedAt: row.installed_at,
      removedAt: row.removed_at,
      // disabled before the registry kept when: its installation (it counts in no period)
      disabledAt: row.status === 'disabled' ? (row.disabled_at ?? row.installed_at) : null,
      lastSeenAt: row.last_seen_at,
      online: false,
    },
  };
}
