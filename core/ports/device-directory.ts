import type { DeviceKind, MetricSpec } from '../device-kind.ts';

export type DeviceStatus = 'active' | 'disabled';
export type AttributeValue = string | number | boolean;

export interface DeviceRecord {
  id: string;
  kind: string;
  name: string;
  district: string;
  location: { lat: number; lon: number } | null;
  /** Asset attributes the KPIs need, as declared by the kind (segmentLengthKm, customersServed...). */
  attributes: Record<string, AttributeValue>;
  /**
   * LoRaWAN DevEUI, 16 lower-case hex digits, for devices whose readings come through a LoRaWAN network
   * server (bridges/lorawan); null or absent for devices that publish themselves. Unique.
   */
  devEui?: string | null;
  status: DeviceStatus;
  /** epoch ms: when the device was provisioned (never changes) */
  createdAt: number;
  /**
   * epoch ms: start of the installed interval [installedAt, removedAt). Readings stamped outside it are
   * refused, and a device owes readings (and counts in a period's device set) only inside it. Defaults to
   * the provisioning time; earlier for a device whose past readings are back-filled.
   */
  installedAt: number;
  /** epoch ms, exclusive: when the device was removed (decommissioned); null while installed */
  removedAt: number | null;
  /**
   * epoch ms: since when the device is disabled (its credentials refused); null or absent while active.
   * For the KPIs a disabled device ends there, as if removed: it counts, and owes readings, in the periods
   * before it was disabled, so disabling a device today does not rewrite last year.
   */
  disabledAt?: number | null;
  /** epoch ms of the last accepted message, null if never */
  lastSeenAt: number | null;
  online: boolean;
}

export type CredentialCheck = 'ok' | 'unknown-device' | 'bad-password' | 'disabled';

/**
 * What the gateway and ingest need from the device registry. Lookups are synchronous (served from memory):
 * they run for every message.
 */
export interface DeviceDirectory {
  get(id: string): DeviceRecord | undefined;
  kind(kindId: string): DeviceKind | undefined;
  metric(kindId: string, metric: string): MetricSpec | undefined;
  /** Salted-hash check in constant time; async because scrypt is deliberately slow. */
  verifyCredentials(id: string, password: string): Promise<CredentialCheck>;
  setOnline(id: string, online: boolean, at: number): void;
  /** Cheap: kept in memory and written to the database in batches. */
  markSeen(id: string, at: number): void;
  /** Called when a device is disabled or its password rotated: the gateway disconnects it at once. */
  onCredentialsRevoked(listener: (id: string) => void): () => void;
}
