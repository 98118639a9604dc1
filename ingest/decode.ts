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
  /** the device's own sequence number, when it sends one */
  seq?: number;
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
const COMMA = 0x2c;
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

/**
 * The first key repeated within one object, or undefined. JSON.parse keeps the last of repeated keys, so
 * `{"pm25":9999,"pm25":3}` would pass validation with a value the device never meant alone; the parsed
 * object cannot show the repeat, so this one linear pass over the raw text (already bounded by MAX_DEPTH
 * and the payload size limit) looks for it. It assumes the text is otherwise valid JSON: it runs after JSON.parse.
 */
export function duplicateKey(text: string): string | undefined {
  // One key set per open object; arrays get a null entry so closing brackets pop the right level.
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const start = i;
      let escaped = false;
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === BACKSLASH) {
          escaped = true;
          i++;
        } else if (d === QUOTE) break;
      }
      const keys = stack[stack.length - 1];
      if (expectKey && keys) {
        // An escaped key (`"\u0070m25"`) is compared decoded, as JSON.parse would see it.
        const raw = text.slice(start, i + 1);
        const key = escaped ? (JSON.parse(raw) as string) : raw.slice(1, -1);
        if (keys.has(key)) return key;
        keys.add(key);
      }
      expectKey = false;
    } else if (c === OPEN_BRACE) {
      stack.push(new Set());
      expectKey = true;
    } else if (c === OPEN_BRACKET) {
      stack.push(null);
      expectKey = false;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) stack.pop();
    else if (c === COMMA) expectKey = stack[stack.length - 1] != null;
  }
  return undefined;
}

/** The cheap checks and JSON.parse shared by both channels. */
function parseJson(payload: Buffer, refuseDuplicateKeys = false): Decoded<unknown> {
  if (payload.length === 0) return refuse('INGEST_EMPTY_PAYLOAD');
  if (nestingDepth(payload) > MAX_DEPTH)
    return refuse('INGEST_TOO_DEEP', `payload nesting exceeds ${MAX_DEPTH} levels`);
  const text = payload.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return refuse('INGEST_MALFORMED_JSON', `payload is not valid JSON: ${(err as Error).message}`);
  }
  if (refuseDuplicateKeys) {
    const key = duplicateKey(text);
    if (key !== undefined)
      return refuse('INGEST_DUPLICATE_KEY', `key ${JSON.stringify(key)} appears twice in one object`);
  }
  return { ok: true, value };
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
  // `{value: 1e309, unit}` fails the union as a whole; it is the same non-finite number as a bare 1e309.
  const inner = at !== null && typeof at === 'object' ? (at as { value?: unknown }).value : undefined;
  if (typeof inner === 'number' && !Number.isFinite(inner)) {
    const field = formatPath([...issue.path, 'value']);
    return refuse('INGEST_NOT_FINITE', `value ${inner} is not a finite number`, field);
  }
  // zod says "Invalid input" for a failed union; a value of a reading has one shape to name instead.
  // An object gets the deeper branch's path instead (`values.no2.unit`), which says more.
  const isObject = at !== null && typeof at === 'object' && !Array.isArray(at);
  if (issue.code === 'invalid_union' && !isObject && issue.path[issue.path.length - 2] === 'values') {
    const field = formatPath(issue.path);
    return refuse(code, `${field}: expected a number or {value, unit}`, field);
  }
  const path = issuePath(issue);
  return refuse(code, `${formatPath(path) || 'payload'}: ${issue.message}`, formatPath(path));
}

/** Telemetry payload → readings: one reading object, an array of them (back-fill), or a SenML pack. */
export function decodeReadings(payload: Buffer, options: DecodeOptions): Decoded<DecodedReadings> {
  const parsed = parseJson(payload, true);
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
    // Two records for one metric at one time would otherwise keep the last silently.
    if (metric in reading.values) {
      return refuse('INGEST_SENML_DUPLICATE_RECORD', `record repeats ${metric} at time ${ts}`, `[${i}].n`);
    }
    const unit = r.u ?? bu;
    reading.values[metric] = unit === undefined ? value : { value, unit };
  }
  if (byTs.size === 0) return refuse('INGEST_SENML_INVALID', 'SenML pack holds no values', '[0]');
  return { ok: true, value: { format: 'senml', readings: [...byTs.values()] } };
}
