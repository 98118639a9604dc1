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

export const devEuiField = z
  .string()
  .regex(/^[0-9A-Fa-f]{16}$/)
  .transform((s) => s.toLowerCase());

/** Either server's receive time: RFC 3339 with up to nanoseconds, which Date.parse reads only to ms. */
export const instantField = z.string().transform((s, ctx) => {
  const ms = Date.parse(s.replace(/(\.\d{3})\d+/, '$1'));
  if (Number.isNaN(ms)) {
    ctx.addIssue({ code: 'custom', message: 'not an RFC 3339 time' });
    return z.NEVER;
  }
  return ms;
});

/** Base64 bytes; protobuf's JSON mapping leaves out an empty field, so absent is empty. */
export const base64Field = z
  .string()
  .regex(/^[A-Za-z0-9+/]*={0,2}$/)
  .transform((s) => Buffer.from(s, 'base64'));

export const gatewaySignal = z.object({ rssi: z.number().optional(), snr: z.number().optional() });

/** The best of the gateways that heard the uplink: the highest RSSI (its SNR with it). */
export function bestSignal(
  gateways: ReadonlyArray<z.infer<typeof gatewaySignal>> | undefined,
): Uplink['signal'] {
  let best: z.infer<typeof gatewaySignal> | undefined;
  for (const g of gateways ?? [])
    if (best === undefined || (g.rssi ?? -Infinity) > (best.rssi ?? -Infinity)) best = g;
  return best === undefined ? null : { rssi: best.rssi ?? null, snr: best.snr ?? null };
}

/** Parses the bytes as JSON without throwing. */
export function jsonOf(message: Buffer): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(message.toString('utf8')) };
  } catch {
    return { ok: false };
  }
}

export const issueText = (error: z.ZodError): string =>
  error.issues.map((i) => `${i.path.join('.') || 'payload'}: ${i.message}`).join('; ');
