import { headers, type NatsConnection } from 'nats';
import { z } from 'zod';
import type { Logger } from '../core/logger.ts';
import type { DeviceStatusChanged, MessageRefused, PlatformEvents } from '../core/platform-events.ts';
import { ORIGIN_HEADER } from '../ingest/cluster/log-message.ts';
import { EDGE_HEARTBEAT_MS, edgeHeartbeatSubject, encodeHeartbeat } from './edge-liveness.ts';

/**
 * A device's MQTT session opening or closing on an edge, told to the other nodes on core NATS
 * (`<prefix>.status.<device>`, device ids being valid subject tokens: DEVICE_ID_PATTERN). Not in the
 * stream: a status is of the moment, and a node that misses one learns the next.
 */
export const statusSubject = (prefix: string, deviceId: string): string => `${prefix}.status.${deviceId}`;
export const statusSubjects = (prefix: string): string => `${prefix}.status.*`;

const FORMAT = 1;
const statusMessage = z.object({ v: z.literal(FORMAT), d: z.string(), o: z.boolean(), a: z.number() });

export function encodeStatus(s: DeviceStatusChanged): Uint8Array {
  return Buffer.from(JSON.stringify({ v: FORMAT, d: s.deviceId, o: s.online, a: s.at }));
}

export function decodeStatus(data: Uint8Array): DeviceStatusChanged | null {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
  } catch {
    return null;
  }
  const parsed = statusMessage.safeParse(raw);
  return parsed.success ? { deviceId: parsed.data.d, online: parsed.data.o, at: parsed.data.a } : null;
}

/**
 * On an edge: publishes every 'device-status' platform event on its status subject, and a heartbeat that
 * carries how many messages it refused since the previous one, by code (for the live pages' refusal
 * counts and the kpi leader's refused-spike alerts; the refusal itself stays on the edge, with the
 * device told on its errors topic). Core publish only buffers in the client (a lost connection drops it:
 * best-effort, as the live page is). Returns the stop.
 */
export function publishDeviceStatus(
  deps: { nc: NatsConnection; events: PlatformEvents; logger: Logger },
  options: { subjectPrefix: string; origin: string; heartbeatMs?: number },
): () => void {
  const onStatus = function publishStatus(s: DeviceStatusChanged): void {
    // A listener on the gateway's path: it must not throw (platform-events.ts).
    try {
      if (deps.nc.isClosed() || deps.nc.isDraining()) return;
      const h = headers();
      h.set(ORIGIN_HEADER, options.origin);
      deps.nc.publish(statusSubject(options.subjectPrefix, s.deviceId), encodeStatus(s), { headers: h });
    } catch (err) {
      deps.logger.warn({ err, deviceId: s.deviceId }, 'device status not published');
    }
  };
  deps.events.on('device-status', onStatus);
  const refused = new Map<string, number>();
  const onRefused = function countRefused(r: MessageRefused): void {
    refused.set(r.code, (refused.get(r.code) ?? 0) + 1);
  };
  deps.events.on('refused', onRefused);
  // The heartbeat by which the other nodes notice this edge dying without a word (edge-liveness.ts).
  const heartbeat = setInterval(() => {
    try {
      if (deps.nc.isClosed() || deps.nc.isDraining()) return;
      const h = headers();
      h.set(ORIGIN_HEADER, options.origin);
      deps.nc.publish(edgeHeartbeatSubject(options.subjectPrefix, options.origin), encodeHeartbeat(refused), {
        headers: h,
      });
      refused.clear();
    } catch (err) {
      deps.logger.warn({ err }, 'edge heartbeat not published');
    }
  }, options.heartbeatMs ?? EDGE_HEARTBEAT_MS);
  heartbeat.unref();
  return () => {
    clearInterval(heartbeat);
    deps.events.off('device-status', onStatus);
    deps.events.off('refused', onRefused);
  };
}
