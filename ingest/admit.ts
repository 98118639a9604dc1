import type { Config } from '../core/config.ts';
import { CityError } from '../core/errors.ts';
import type { DeviceDirectory, DeviceRecord } from '../core/ports/device-directory.ts';
import type { IngestChannel } from '../core/ports/ingest-sink.ts';
import { type DecodedReading, decodeEvent, decodeReadings } from './decode.ts';
import {
  type TimeLimits,
  type ValidatedEvent,
  type ValidatedReadings,
  validateEvent,
  validateReadings,
} from './validate.ts';

export interface AdmissionRules {
  limits: TimeLimits;
  maxReadingsPerMessage: number;
}

/** A message that passed every check, ready for a durable log; or the refusal naming why it did not. */
export type Admission =
  | { ok: true; channel: 'telemetry'; device: Readonly<DeviceRecord>; readings: ValidatedReadings }
  | { ok: true; channel: 'events'; device: Readonly<DeviceRecord>; event: ValidatedEvent }
  | { ok: false; error: CityError; seqs?: number[] };

/**
 * Registered device, decode, validate (each timestamp inside the device's installed interval too): what
 * every ingest path (the embedded durable log, the cluster's
 * JetStream edge) checks before anything is logged, in the same order, so a message is refused with the
 * same code whichever path it took. Returns instead of throwing.
 */
export function admitMessage(
  directory: DeviceDirectory,
  rules: AdmissionRules,
  deviceId: string,
  channel: IngestChannel,
  payload: Buffer,
  now: number,
): Admission {
  const device = directory.get(deviceId);
  if (device === undefined)
    return {
      ok: false,
      error: new CityError('INGEST_UNKNOWN_DEVICE', `device ${deviceId} is not registered`),
    };
  if (channel === 'events') {
    const decoded = decodeEvent(payload);
    if (!decoded.ok) return decoded;
    const valid = validateEvent(decoded.value, device.kind, directory, rules.limits, now, device);
    if (!valid.ok) return valid;
    return { ok: true, channel, device, event: valid.value };
  }
  const decoded = decodeReadings(payload, { maxReadings: rules.maxReadingsPerMessage, now });
  if (!decoded.ok) return decoded;
  const seqs = seqsOf(decoded.value.readings);
  const valid = validateReadings(decoded.value, device.kind, directory, rules.limits, now, device);
  if (!valid.ok) return { ...valid, seqs };
  return { ok: true, channel, device, readings: { ...valid.value, seqs } };
}

/** The seq numbers a message carries (a device that numbers its messages lets gaps be told from resends). */
function seqsOf(readings: readonly DecodedReading[]): number[] {
  const out: number[] = [];
  for (const r of readings) if (r.seq !== undefined) out.push(r.seq);
  return out;
}

/** The admission rules the configuration sets. */
export function admissionRulesOf(
  config: Pick<Config, 'ingestFutureSkewMs' | 'ingestLateWindowMs' | 'ingestMaxReadingsPerMessage'>,
): AdmissionRules {
  return {
    limits: { futureSkewMs: config.ingestFutureSkewMs, lateWindowMs: config.ingestLateWindowMs },
    maxReadingsPerMessage: config.ingestMaxReadingsPerMessage,
  };
}
