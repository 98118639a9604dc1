import type { z } from 'zod';
import { CityError, type ErrorCode } from '../core/errors.ts';
import {
  type DeviceEventPayload,
  deviceEventSchema,
  readingBatchSchema,
  readingSchema,
  type SenmlRecord,
  senmlPackSchema,
} from '../core/reading-schema.ts';

/** A value as the device sent it: a bare number in the canonical unit, or a number with its unit. */
export type RawValue = number | { value: number; unit: string };

/** One reading after decoding: the timestamp still as sent (validate.ts interprets it). */
export interface DecodedReading {
  ts: string | number;
  values: Record<string, RawValue>;
}

export type PayloadFormat = 'object' | 'batch' | 'senml';

export interface DecodedReadings {
  format: PayloadFormat;
  readings: DecodedReading[];
}

export type Decoded<T> = { ok: true; value: T } | { ok: false; error: CityError };

export interface DecodeOptions {
  /** Largest number of readings (distinct timestamps) in one message. */
  maxReadings: number;
  /** epoch ms: SenML times below 2^28 s are relative to now (RFC 8428 section 4.5.3). */
  now: number;
}

/**
 * Deepest nesting a citymetrics payload needs is 4 (batch → reading → values → {value, unit}); 8 leaves room
 * and refuses pathological nesting before JSON.parse, which would otherwise recurse (and allocate) on it.
 */
export const MAX_DEPTH = 8;

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const SENML_RELATIVE_LIMIT_S = 2 ** 28;

const refuse = (code: ErrorCode, message?: string, field?: string): { ok: false; error: CityError } => ({
  ok: false,
  error: new CityError(code, message, field === undefined ? {} : { field }),
});

/** Deepest bracket nesting, ignoring brackets inside strings; stops counting once past `limit`. */
export function nestingDepth(payload: Uint8Array, limit = MAX_DEPTH): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < payload.length; i++) {
    const b = payload[i];
    if (inString) {
      if (b === BACKSLASH) i++;
      else if (b === QUOTE) inString = false;
    } else if (b === QUOTE) inString = true;
    else if (b === OPEN_BRACE || b === OPEN_BRACKET) {
      depth++;
      if (depth > max) {
        max = depth;
        if (max > limit) return max;
      }
    } else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) depth--;
  }
  return max;
}

/** The cheap checks and JSON.parse shared by both channels. */
function parseJson(payload: Buffer): Decoded<unknown> {
  if (payload.length === 0) return refuse('INGEST_EMPTY_PAYLOAD');
  if (nestingDepth(payload) > MAX_DEPTH)
    return refuse('INGEST_TOO_DEEP', `payload nesting exceeds ${MAX_DEPTH} levels`);
  try {
    return { ok: true, value: JSON.parse(payload.toString('utf8')) };
  } catch (err) {
    return refuse('INGEST_MALFORMED_JSON', `payload is not valid JSON: ${(err as Error).message}`);
  }
}

/** `values.pm25`, `[2].ts`: the path of a zod issue as the devices/{id}/errors `field`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? String(seg) : `.${String(seg)}`;
  }
  return out;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let cur = input;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[seg];
  }
  return cur;
}

/**
 * The most useful path of a zod issue. For a union the branch that got furthest tells more
 * (`values.no2.unit` rather than `values.no2`); for unknown keys, the key itself.
 */
function issuePath(issue: z.core.$ZodIssue): PropertyKey[] {
  const path = [...issue.path];
  if (issue.code === 'unrecognized_keys' && issue.keys.length > 0) path.push(issue.keys[0] as string);
  if (issue.code === 'invalid_union') {
    let best: readonly PropertyKey[] = [];
    for (const branch of issue.errors) {
      for (const sub of branch) if (sub.path.length > best.length) best = sub.path;
    }
    path.push(...best);
  }
  return path;
}

/** A zod failure as a CityError; a non-finite number (1e400 parses to Infinity) gets its own code. */
function schemaError(error: z.ZodError, input: unknown, code: ErrorCode): { ok: false; error: CityError } {
  const issue = error.issues[0];
  if (issue === undefined) return refuse(code);
  const at = valueAt(input, issue.path);
  if (typeof at === 'number' && !Number.isFinite(at)) {
    return refuse('INGEST_NOT_FINITE', `value ${at} is not a finite number`, formatPath(issue.path));
  }
  const path = issuePath(issue);
  return refuse(code, `${formatPath(path) || 'payload'}: ${issue.message}`, formatPath(path));
}

/** Telemetry payload → readings: one reading object, an array of them (back-fill), or a SenML pack. */
export function decodeReadings(payload: Buffer, options: DecodeOptions): Decoded<DecodedReadings> {
  const parsed = parseJson(payload);
  if (!parsed.ok) return parsed;
  const input = parsed.value;
  if (Array.isArray(input)) {
    if (input.length > 0 && isReadingLike(input[0])) {
      if (input.length > options.maxReadings) {
        return refuse(
          'INGEST_TOO_MANY_READINGS',
          `batch holds ${input.length} readings, at most ${options.maxReadings}`,
        );
      }
      const batch = readingBatchSchema.safeParse(input);
      if (!batch.success) return schemaError(batch.error, input, 'INGEST_SCHEMA');
      for (let i = 0; i < batch.data.length; i++) {
        if (isEmpty(batch.data[i]?.values))
          return refuse('INGEST_SCHEMA', 'a reading holds no values', `[${i}].values`);
      }
      return { ok: true, value: { format: 'batch', readings: batch.data } };
    }
    return decodeSenml(input, options);
  }
  const one = readingSchema.safeParse(input);
  if (!one.success) return schemaError(one.error, input, 'INGEST_SCHEMA');
  if (isEmpty(one.data.values)) return refuse('INGEST_SCHEMA', 'the reading holds no values', 'values');
  return { ok: true, value: { format: 'object', readings: [one.data] } };
}

/** Events payload → one event. */
export function decodeEvent(payload: Buffer): Decoded<DeviceEventPayload> {
  const parsed = parseJson(payload);
  if (!parsed.ok) return parsed;
  const event = deviceEventSchema.safeParse(parsed.value);
  if (!event.success) return schemaError(event.error, parsed.value, 'INGEST_SCHEMA');
  return { ok: true, value: event.data };
}

function isReadingLike(x: unknown): boolean {
  return x !== null && typeof x === 'object' && ('values' in x || 'ts' in x);
}

function isEmpty(values: Record<string, unknown> | undefined): boolean {
  for (const _ in values) return false;
  return true;
}

/**
 * SenML JSON (RFC 8428): base name, time, unit and value carry over to the records after them until
 * changed; name = bn + n, time = bt + t (seconds), value = bv + v. Records are grouped into one reading per
 * resolved time. The metric is the part of the name after the last ':' or '/', so both `pm25` and
 * `urn:dev:ow:10e2073a01080063:pm25` work.
 */
function decodeSenml(input: unknown[], options: DecodeOptions): Decoded<DecodedReadings> {
  const pack = senmlPackSchema.safeParse(input);
  if (!pack.success) return schemaError(pack.error, input, 'INGEST_SENML_INVALID');
  const byTs = new Map<number, DecodedReading>();
  let bn = '';
  let bt = 0;
  let bu: string | undefined;
  let bv = 0;
  const records: SenmlRecord[] = pack.data;
  for (let i = 0; i < records.length; i++) {
    const r = records[i] as SenmlRecord;
    if (r.bn !== undefined) bn = r.bn;
    if (r.bt !== undefined) bt = r.bt;
    if (r.bu !== undefined) bu = r.bu;
    if (r.bv !== undefined) bv = r.bv;
    if (r.bver !== undefined && r.bver > 10) {
      return refuse('INGEST_SENML_INVALID', `SenML version ${r.bver} is not supported`, `[${i}].bver`);
    }
    // A record with only base fields sets context for the records after it.
    if (r.n === undefined && r.v === undefined) continue;
    if (r.v === undefined && r.bv === undefined)
      return refuse('INGEST_SENML_INVALID', 'record has no value', `[${i}].v`);
    const name = bn + (r.n ?? '');
    const cut = Math.max(name.lastIndexOf(':'), name.lastIndexOf('/'));
    const metric = name.slice(cut + 1);
    if (metric === '') return refuse('INGEST_SENML_INVALID', 'record has no name', `[${i}].n`);
    const value = bv + (r.v ?? 0);
    if (!Number.isFinite(value))
      return refuse('INGEST_NOT_FINITE', `value ${value} is not a finite number`, `[${i}].v`);
    const seconds = bt + (r.t ?? 0);
    const ts = Math.round(
      Math.abs(seconds) < SENML_RELATIVE_LIMIT_S ? options.now + seconds * 1000 : seconds * 1000,
    );
    if (!Number.isFinite(ts)) return refuse('INGEST_SENML_INVALID', 'record time is not finite', `[${i}].t`);
    let reading = byTs.get(ts);
    if (reading === undefined) {
      if (byTs.size >= options.maxReadings) {
        return refuse(
          'INGEST_TOO_MANY_READINGS',
          `SenML pack holds more than ${options.maxReadings} timestamps`,
        );
      }
      // A null-prototype object: a metric named `__proto__` must stay a plain key.
      reading = { ts, values: Object.create(null) as Record<string, RawValue> };
      byTs.set(ts, reading);
    }
    const unit = r.u ?? bu;
    reading.values[metric] = unit === undefined ? value : { value, unit };
  }
  if (byTs.size === 0) return refuse('INGEST_SENML_INVALID', 'SenML pack holds no values', '[0]');
  return { ok: true, value: { format: 'senml', readings: [...byTs.values()] } };
}
