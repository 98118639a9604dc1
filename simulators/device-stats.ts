import { emptyFaultCounts, FAULT_TYPES, type FaultCounts } from './faults.ts';

/** What one virtual device did. Counts are readings unless the name says messages. */
export interface DeviceStats {
  /** Readings generated (one per tick). */
  generated: number;
  /** Readings handed to the MQTT client, live or back-filled (a duplicate counts again). */
  published: number;
  /** MQTT messages on the telemetry topic. */
  messages: number;
  /** Readings whose message the broker acknowledged (QoS 1 PUBACK). */
  acknowledged: number;
  /** Readings whose publish failed (connection lost before the PUBACK and the session gone). */
  publishErrors: number;
  /** Readings waiting in the offline buffer now. */
  buffered: number;
  /** Readings that went through the offline buffer. */
  bufferedTotal: number;
  /** Readings pushed out of the full offline buffer (oldest first). */
  dropped: number;
  /** Readings sent in back-fill batches after a reconnect. */
  backfilled: number;
  /** Back-fill messages (JSON arrays). */
  backfillMessages: number;
  /** Refusals the platform reported on `devices/{id}/errors`, by code. */
  refused: Record<string, number>;
  /** Injected faults, by type. */
  faults: FaultCounts;
  /** Events published on `devices/{id}/events`, by type. */
  events: Record<string, number>;
  connects: number;
  connectErrors: number;
  /** The broker refused the credentials: the device gave up. */
  authRefused: boolean;
}

export function emptyDeviceStats(): DeviceStats {
  return {
    generated: 0,
    published: 0,
    messages: 0,
    acknowledged: 0,
    publishErrors: 0,
    buffered: 0,
    bufferedTotal: 0,
    dropped: 0,
    backfilled: 0,
    backfillMessages: 0,
    refused: {},
    faults: emptyFaultCounts(),
    events: {},
    connects: 0,
    connectErrors: 0,
    authRefused: false,
  };
}

const addInto = (into: Record<string, number>, from: Readonly<Record<string, number>>): void => {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
};

/** Fleet totals. `authRefused` becomes the number of devices refused. */
export interface FleetStats extends Omit<DeviceStats, 'authRefused'> {
  devices: number;
  connected: number;
  authRefused: number;
}

export function sumStats(all: Iterable<{ stats: DeviceStats; connected: boolean }>): FleetStats {
  const total: FleetStats = { ...emptyDeviceStats(), devices: 0, connected: 0, authRefused: 0 };
  for (const { stats: s, connected } of all) {
    total.devices++;
    if (connected) total.connected++;
    if (s.authRefused) total.authRefused++;
    total.generated += s.generated;
    total.published += s.published;
    total.messages += s.messages;
    total.acknowledged += s.acknowledged;
    total.publishErrors += s.publishErrors;
    total.buffered += s.buffered;
    total.bufferedTotal += s.bufferedTotal;
    total.dropped += s.dropped;
    total.backfilled += s.backfilled;
    total.backfillMessages += s.backfillMessages;
    total.connects += s.connects;
    total.connectErrors += s.connectErrors;
    addInto(total.refused, s.refused);
    addInto(total.events, s.events);
    for (const t of FAULT_TYPES) total.faults[t] += s.faults[t];
  }
  return total;
}
