import { z } from 'zod';

/**
 * One uplink as both network servers describe it, reduced to what a reading needs. Parsed from the JSON
 * of each server's integration (chirpstack.ts, things-stack.ts); shapes and their sources are listed in
 * test/fixtures/lorawan/README.md.
 */
export interface Uplink {
  /** 16 lower-case hex digits. */
  devEui: string;
  /** epoch ms at which the network server received the uplink: the reading's time. */
  receivedAt: number;
  /** Frame counter: the reading's seq, so lost frames show as gaps in the device's counters. */
  fCnt: number;
  /** The network server's decoded payload (its codec ran), or null: then `payload` is decoded here. */
  decoded: Record<string, unknown> | null;
  /** FRMPayload bytes, empty when the server sent none. */
  payload: Buffer;
  /** Signal of the best gateway (highest RSSI), null when no gateway metadata came. */
  signal: { rssi: number | null; snr: number | null } | null;
}

export type UplinkParse = { ok: true; uplink: Uplink } | { ok: false; reason: string };

const gatewaySignal = z.object({ rssi: z.number().optional(), snr: z.number().optional() });

/** The best of the gateways that heard the uplink: the highest RSSI (its SNR with it). */
function bestSignal(gateways: ReadonlyArray<z.infer<typeof gatewaySignal>> | undefined): Uplink['signal'] {
  let best: z.infer<typeof gatewaySignal> | undefined;
  for (const g of gateways ?? [])
    if (best === undefined || (g.rssi ?? -Infinity) > (best.rssi ?? -Infinity)) best = g;
  return best === undefined ? null : { rssi: best.rssi ?? null, snr: best.snr ?? null };
}

/**
 * The fields both servers send, each under its own name and nesting: every parser builds its message schema
 * from these, so the two agree on what a valid DevEUI, time, payload or signal is.
 */
export const uplinkFields = {
  devEui: z
    .string()
    .regex(/^[0-9A-Fa-f]{16}$/)
    .transform((s) => s.toLowerCase()),
  /** Either server's receive time: RFC 3339 with up to nanoseconds, which Date.parse reads only to ms. */
  instant: z.string().transform((s, ctx) => {
    const ms = Date.parse(s.replace(/(\.\d{3})\d+/, '$1'));
    if (Number.isNaN(ms)) {
      ctx.addIssue({ code: 'custom', message: 'not an RFC 3339 time' });
      return z.NEVER;
    }
    return ms;
  }),
  /** protobuf's JSON mapping leaves out a field that is 0 */
  fCnt: z.number().int().nonnegative().default(0),
  /** Base64 bytes; protobuf's JSON mapping leaves out an empty field, so absent is empty. */
  payload: z
    .string()
    .regex(/^[A-Za-z0-9+/]*={0,2}$/)
    .optional()
    .transform((s) => (s === undefined ? Buffer.alloc(0) : Buffer.from(s, 'base64'))),
  /** present only when the server's codec or payload formatter ran */
  decoded: z
    .record(z.string(), z.unknown())
    .nullable()
    .optional()
    .transform((d) => d ?? null),
  /** the gateways that heard it, read as the best one's signal */
  signal: z.array(gatewaySignal).optional().transform(bestSignal),
};

/** Parses the bytes as JSON without throwing. */
function jsonOf(message: Buffer): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(message.toString('utf8')) };
  } catch {
    return { ok: false };
  }
}

const issueText = (error: z.ZodError): string =>
  error.issues.map((i) => `${i.path.join('.') || 'payload'}: ${i.message}`).join('; ');

/**
 * A parser of one server's uplink message: JSON, then its schema, then the mapping to an Uplink; refusals are
 * reasons, never throws (the bridge counts them and carries on). `notJson` says what a non-JSON message
 * likely means for that server.
 */
export function uplinkParser<S extends z.ZodType>(
  schema: S,
  notJson: string,
  toUplink: (message: z.output<S>) => Uplink,
): (message: Buffer) => UplinkParse {
  return function parseUplink(message) {
    const json = jsonOf(message);
    if (!json.ok) return { ok: false, reason: notJson };
    const parsed = schema.safeParse(json.value);
    if (!parsed.success) return { ok: false, reason: issueText(parsed.error) };
    return { ok: true, uplink: toUplink(parsed.data) };
  };
}
