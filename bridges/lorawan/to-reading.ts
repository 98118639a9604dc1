import type { MetricSpec } from '../../core/device-kind.ts';
import type { ErrorCode } from '../../core/errors.ts';
import type { ReadingPayload } from '../../core/reading-schema.ts';
import { decodeCayenneLpp } from './cayenne-lpp.ts';
import { KIND_MAPPINGS, type KindMapping, SIGNAL_METRICS } from './kind-mappings.ts';
import type { Uplink } from './uplink.ts';

/** What a kind's metrics look like to the mapping: the kind's declared metric specs. */
export type MetricLookup = (kindId: string, metric: string) => MetricSpec | undefined;

export interface Conversion {
  /** The reading to submit, or null when nothing in the uplink maps to a metric. */
  reading: ReadingPayload | null;
  /** Problems to count, each once per uplink (fields named for the log). */
  problems: Array<{ code: ErrorCode; detail: string }>;
}

/** Nested codec output (`{"gps_1": {"latitude": ...}}`) is named with dots: `gps_1.latitude`. */
const MAX_DEPTH = 3;

function flatten(
  obj: Record<string, unknown>,
  prefix: string,
  depth: number,
  out: Map<string, unknown>,
): void {
  for (const [key, value] of Object.entries(obj)) {
    const name = prefix === '' ? key : `${prefix}.${key}`;
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && depth < MAX_DEPTH)
      flatten(value as Record<string, unknown>, name, depth + 1, out);
    else out.set(name, value);
  }
}

/**
 * Turns an uplink into the reading ingest takes from any device: `ts` the network server's receive time,
 * `seq` the frame counter, values by the kind's mapping table. Decodes the bytes with the kind's codec
 * when the server did not. Pure: counting and submitting are the bridge's.
 */
export function uplinkToReading(uplink: Uplink, kindId: string, metricOf: MetricLookup): Conversion {
  const mapping: KindMapping = KIND_MAPPINGS[kindId] ?? { codec: null, fields: {} };
  const problems: Conversion['problems'] = [];
  let decoded = uplink.decoded;
  if (decoded === null) {
    if (mapping.codec !== 'cayenne-lpp')
      return { reading: null, problems: [{ code: 'BRIDGE_UNDECODABLE', detail: `${kindId} has no codec` }] };
    const lpp = decodeCayenneLpp(uplink.payload);
    if (!lpp.ok)
      return {
        reading: null,
        problems: [{ code: 'BRIDGE_UNDECODABLE', detail: `CayenneLPP: ${lpp.reason} at byte ${lpp.at}` }],
      };
    decoded = lpp.fields;
  }
  const fields = new Map<string, unknown>();
  flatten(decoded, '', 0, fields);
  const values: ReadingPayload['values'] = {};
  const unknown: string[] = [];
  const notNumbers: string[] = [];
  for (const [field, raw] of fields) {
    const target =
      mapping.fields[field] ??
      (metricOf(kindId, field) ? { metric: field, unit: metricOf(kindId, field)!.unit } : undefined);
    if (target === undefined) {
      unknown.push(field);
      continue;
    }
    const value = typeof raw === 'boolean' ? Number(raw) : raw;
    if (typeof value !== 'number') {
      notNumbers.push(field);
      continue;
    }
    values[target.metric] = { value, unit: target.unit };
  }
  for (const [metric, unit] of Object.entries(SIGNAL_METRICS)) {
    const value = uplink.signal?.[metric as keyof typeof SIGNAL_METRICS];
    if (value != null && metricOf(kindId, metric) !== undefined && !(metric in values))
      values[metric] = { value, unit };
  }
  if (unknown.length > 0) problems.push({ code: 'BRIDGE_UNKNOWN_FIELD', detail: unknown.join(', ') });
  if (notNumbers.length > 0)
    problems.push({ code: 'BRIDGE_UNDECODABLE', detail: `not numbers: ${notNumbers.join(', ')}` });
  const reading =
    Object.keys(values).length === 0 ? null : { ts: uplink.receivedAt, seq: uplink.fCnt, values };
  return { reading, problems };
}
