import type { MetricSpec } from '../core/device-kind.ts';
import { CityError, type ErrorCode } from '../core/errors.ts';
import type { DeviceDirectory } from '../core/ports/device-directory.ts';
import type { DeviceLife } from '../core/ports/registry-persistence.ts';
import type { DeviceEventPayload, NormalizedValue } from '../core/reading-schema.ts';
import { describeLife, isInstalledAt } from '../devices/device-life.ts';
import type { Decoded, DecodedReadings } from './decode.ts';

export interface TimeLimits {
  /** Readings stamped more than this ahead of now are refused (ms). */
  futureSkewMs: number;
  /** Readings older than now minus this are refused (ms). */
  lateWindowMs: number;
}

export interface ValidatedReadings {
  /** Readings (distinct timestamps) in the message. */
  readings: number;
  values: NormalizedValue[];
  /** seq numbers of its readings, when the device sends them */
  seqs?: number[];
}

export interface ValidatedEvent {
  type: string;
  ts: number;
  data: Record<string, string | number | boolean | null> | null;
}

/** 2000-01-01T00:00:00Z: an epoch-ms timestamp below it is a clock that was never set, or seconds sent as ms. */
export const MIN_PLAUSIBLE_TS = 946_684_800_000;

// ISO-8601 date-time with a mandatory zone (Z or ±hh:mm / ±hhmm): a local time without a zone is ambiguous.
const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|z|[+-]\d{2}:?\d{2})$/;

const refuse = (code: ErrorCode, message: string, field: string): { ok: false; error: CityError } => ({
  ok: false,
  error: new CityError(code, message, { field }),
});

/** ISO-8601 with a zone, or integer epoch ms after 2000; NaN when neither. */
export function parseTimestamp(ts: string | number): number {
  if (typeof ts === 'number') return Number.isInteger(ts) && ts > MIN_PLAUSIBLE_TS ? ts : Number.NaN;
  const m = ISO_RE.exec(ts);
  if (m === null) return Number.NaN;
  // Date.parse rolls 2026-02-30 over to March; calendar fields are checked here instead.
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (month < 1 || month > 12 || day < 1 || day > new Date(Date.UTC(year, month, 0)).getUTCDate())
    return Number.NaN;
  if (Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6] ?? 0) > 59) return Number.NaN;
  const ms = Date.parse(ts);
  return ms > MIN_PLAUSIBLE_TS ? ms : Number.NaN;
}

/**
 * The ts checks shared by readings and events; returns the epoch ms or the refusal. With the device's
 * installed interval, a timestamp outside it is refused: a reading from before the device was installed or
 * after its removal belongs to no period's device set, so no KPI could count it consistently.
 */
function checkTs(
  ts: string | number,
  field: string,
  limits: TimeLimits,
  now: number,
  life?: DeviceLife,
): number | CityError {
  const ms = parseTimestamp(ts);
  if (Number.isNaN(ms)) {
    return new CityError(
      'INGEST_TS_INVALID',
      `timestamp ${JSON.stringify(ts)} is not ISO-8601 with a zone or epoch ms`,
      {
        field,
      },
    );
  }
  if (ms > now + limits.futureSkewMs) {
    return new CityError(
      'INGEST_TS_FUTURE',
      `timestamp is ${ms - now} ms ahead, at most ${limits.futureSkewMs}`,
      {
        field,
      },
    );
  }
  if (ms < now - limits.lateWindowMs) {
    return new CityError(
      'INGEST_TS_TOO_OLD',
      `timestamp is ${now - ms} ms old, the late window is ${limits.lateWindowMs}`,
      {
        field,
      },
    );
  }
  if (life !== undefined && !isInstalledAt(life, ms))
    return new CityError(
      'INGEST_OUTSIDE_INSTALLATION',
      `timestamp ${new Date(ms).toISOString()} is outside the device's installed interval ${describeLife(life)}`,
      { field },
    );
  return ms;
}

/**
 * Checks every value of a decoded message against the device kind and converts it to the canonical unit.
 * All or nothing: the first refused value refuses the whole message, and the error names it.
 */
export function validateReadings(
  decoded: DecodedReadings,
  kindId: string,
  directory: Pick<DeviceDirectory, 'metric'>,
  limits: TimeLimits,
  now: number,
  /** the device's installed interval: readings stamped outside it are refused */
  life?: DeviceLife,
): Decoded<ValidatedReadings> {
  const values: NormalizedValue[] = [];
  const readings = decoded.readings;
  const indexed = decoded.format === 'batch';
  for (let i = 0; i < readings.length; i++) {
    const reading = readings[i]!;
    const prefix = indexed ? `[${i}].` : '';
    const ts = checkTs(reading.ts, `${prefix}ts`, limits, now, life);
    if (typeof ts !== 'number') return { ok: false, error: ts };
    for (const name in reading.values) {
      const raw = reading.values[name]!;
      const field = `${prefix}values.${name}`;
      const spec = directory.metric(kindId, name);
      if (spec === undefined)
        return refuse('INGEST_UNKNOWN_METRIC', `metric ${name} is not declared by ${kindId}`, field);
      let value: number;
      let fromUnit: string | undefined;
      if (typeof raw === 'number') value = raw;
      else {
        const converted = convert(raw.value, raw.unit, spec);
        if (converted === undefined) {
          return refuse(
            'INGEST_UNKNOWN_UNIT',
            `unit ${raw.unit} is not accepted for ${name} (${acceptedUnits(spec)})`,
            `${field}.unit`,
          );
        }
        value = converted;
        if (raw.unit !== spec.unit) fromUnit = raw.unit;
      }
      if (!Number.isFinite(value))
        return refuse('INGEST_NOT_FINITE', `value ${value} is not a finite number`, field);
      if (value < spec.min || value > spec.max) {
        return refuse(
          'INGEST_OUT_OF_RANGE',
          `${name} ${value} ${spec.unit} is outside the plausible range [${spec.min}, ${spec.max}] ${spec.unit}`,
          field,
        );
      }
      values.push(
        fromUnit === undefined ? { metric: name, ts, value } : { metric: name, ts, value, fromUnit },
      );
    }
  }
  return { ok: true, value: { readings: readings.length, values } };
}

/** Canonical value, or undefined when the unit is neither canonical nor one of the kind's alternatives. */
export function convert(value: number, unit: string, spec: MetricSpec): number | undefined {
  if (unit === spec.unit) return value;
  const alt = Object.hasOwn(spec.altUnits, unit) ? spec.altUnits[unit] : undefined;
  if (alt === undefined) return undefined;
  // 12 significant digits: far finer than any sensor, and 10 ppb × 1.91 is stored as 19.1, not 19.099999999999998.
  return Number((value * alt.factor + alt.offset).toPrecision(12));
}

function acceptedUnits(spec: MetricSpec): string {
  return [spec.unit, ...Object.keys(spec.altUnits)].join(', ');
}

/** Event type must be one the kind declares; same timestamp rules as readings. */
export function validateEvent(
  event: DeviceEventPayload,
  kindId: string,
  directory: Pick<DeviceDirectory, 'kind'>,
  limits: TimeLimits,
  now: number,
  life?: DeviceLife,
): Decoded<ValidatedEvent> {
  const kind = directory.kind(kindId);
  if (kind === undefined || !kind.events.includes(event.type)) {
    return refuse('INGEST_UNKNOWN_EVENT', `event type ${event.type} is not declared by ${kindId}`, 'type');
  }
  const ts = checkTs(event.ts, 'ts', limits, now, life);
  if (typeof ts !== 'number') return { ok: false, error: ts };
  return { ok: true, value: { type: event.type, ts, data: event.data ?? null } };
}
