import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { DeviceEventAccepted } from '../../core/platform-events.ts';
import type { SeriesPoint } from '../../core/ports/series-store.ts';
import type { NormalizedValue } from '../../core/reading-schema.ts';
import type { DeviceContext, EventEntry } from '../durable-log.ts';
import type { JetStreamLogOptions } from './log-options.ts';

/**
 * The messages on the JetStream log: compact JSON, one per accepted MQTT message, with the values already
 * decoded, validated and in canonical units, so a writer only maps them to series points.
 */

/** FNV-1a (32 bit) of the device id: stable across processes and releases, so one device keeps its shard. */
export function shardOf(deviceId: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < deviceId.length; i++) {
    h ^= deviceId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % shards;
}

type Subjects = Pick<JetStreamLogOptions, 'subjectPrefix'>;
export const readingsSubject = (o: Subjects, shard: number): string => `${o.subjectPrefix}.readings.${shard}`;
export const eventsSubject = (o: Subjects, shard: number): string => `${o.subjectPrefix}.events.${shard}`;
/** The stream's subjects: every shard of both channels. */
export const streamSubjects = (o: Subjects): string[] => [
  `${o.subjectPrefix}.readings.*`,
  `${o.subjectPrefix}.events.*`,
];

/**
 * The JetStream message id of a readings message: the device and a hash of its normalized values (metric,
 * ts, value, in a fixed order). A QoS 1 resend after a reconnect carries the same values, hence the same
 * id, and the stream drops it within its duplicate window. Two different readings differ in ts or value,
 * hence in id; a revision (same metric and ts, another value) is therefore logged, and the store records it
 * as a revision, as in single-process mode. Hashing the raw payload instead would merge two readings sent
 * with the same bytes (SenML times relative to now) and split one reading sent in two unit spellings.
 */
export function readingsMessageId(deviceId: string, values: readonly NormalizedValue[]): string {
  const lines = values.map((v) => `${v.metric}\u0000${v.ts}\u0000${v.value}`).sort();
  const digest = createHash('sha256').update(lines.join('\n')).digest('base64url').slice(0, 22);
  return `${deviceId}/r/${digest}`;
}

/** An event's identity is (device, type, ts), as in the embedded log: a resend is the same event. */
export const eventMessageId = (deviceId: string, type: string, ts: number): string =>
  `${deviceId}/e/${type}/${ts}`;

const FORMAT = 1;

const valueTuple = z.union([
  z.tuple([z.string(), z.number(), z.number()]),
  z.tuple([z.string(), z.number(), z.number(), z.string()]),
]);

const readingsMessage = z.object({
  v: z.literal(FORMAT),
  d: z.string(),
  k: z.string(),
  s: z.string(),
  x: z.array(valueTuple).min(1),
});

export function encodeReadings(ctx: DeviceContext, values: readonly NormalizedValue[]): Uint8Array {
  const x = values.map((v) =>
    v.fromUnit === undefined ? [v.metric, v.ts, v.value] : [v.metric, v.ts, v.value, v.fromUnit],
  );
  return Buffer.from(JSON.stringify({ v: FORMAT, d: ctx.deviceId, k: ctx.kind, s: ctx.district, x }));
}

export function encodeEvent(entry: EventEntry): Uint8Array {
  const { deviceId, kind, district, type, ts, data } = entry;
  return Buffer.from(JSON.stringify({ v: FORMAT, d: deviceId, k: kind, s: district, e: { type, ts, data } }));
}

/**
 * Header naming the process that published a message. A process that relays the log's messages to its own
 * live page skips those it published itself: it announced them when JetStream acknowledged them.
 */
export const ORIGIN_HEADER = 'Citymetrics-Origin';

const eventMessage = z.object({
  v: z.literal(FORMAT),
  d: z.string(),
  k: z.string(),
  s: z.string(),
  e: z.object({
    type: z.string(),
    ts: z.number(),
    data: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).nullable(),
  }),
});

const parseJson = (data: Uint8Array): unknown => {
  try {
    return JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
  } catch {
    return undefined;
  }
};

/**
 * Whether a message that this version cannot read was written by a newer one (its `v` above this version's):
 * such a message is not broken, it waits for a writer of that release (a rolling upgrade started with the
 * edges), where a broken one is taken out of the stream.
 */
export function isNewerFormat(data: Uint8Array): boolean {
  const v = (parseJson(data) as { v?: unknown } | undefined)?.v;
  return typeof v === 'number' && Number.isInteger(v) && v > FORMAT;
}

/** The event of an events message (as the 'device-event' platform event carries it), or null. */
export function decodeEventMessage(data: Uint8Array): DeviceEventAccepted | null {
  const parsed = eventMessage.safeParse(parseJson(data));
  if (!parsed.success) return null;
  const { d, k, s, e } = parsed.data;
  const event = { deviceId: d, kind: k, district: s, type: e.type, ts: e.ts };
  return e.data === null ? event : { ...event, data: e.data };
}

/** The series points of a readings message, or null when it is not one this version can read. */
export function decodeReadingsMessage(data: Uint8Array): SeriesPoint[] | null {
  const parsed = readingsMessage.safeParse(parseJson(data));
  if (!parsed.success) return null;
  const { d, k, s, x } = parsed.data;
  return x.map(([metric, ts, value]) => ({ deviceId: d, kind: k, district: s, metric, ts, value }));
}
