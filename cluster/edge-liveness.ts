import { z } from 'zod';
import type { DeviceStatusChanged } from '../core/platform-events.ts';

/** Where an edge says it is alive, every EDGE_HEARTBEAT_MS: `<prefix>.edges.<origin>`. */
export const edgeHeartbeatSubject = (prefix: string, origin: string): string => `${prefix}.edges.${origin}`;
export const edgeHeartbeatSubjects = (prefix: string): string => `${prefix}.edges.*`;
export const EDGE_HEARTBEAT_MS = 2_000;
/** An edge not heard for this long is taken for dead: three heartbeats missed. */
export const EDGE_SILENT_MS = 3 * EDGE_HEARTBEAT_MS;

const HEARTBEAT_FORMAT = 1;
const heartbeatMessage = z.object({
  v: z.literal(HEARTBEAT_FORMAT),
  /** Messages the edge refused since its previous heartbeat, by error code. */
  refused: z.record(z.string().regex(/^[A-Z][A-Z0-9_]*$/), z.number().int().min(0)),
});
export type EdgeHeartbeat = z.infer<typeof heartbeatMessage>;

export function encodeHeartbeat(refused: ReadonlyMap<string, number>): Uint8Array {
  return Buffer.from(JSON.stringify({ v: HEARTBEAT_FORMAT, refused: Object.fromEntries(refused) }));
}

/** An empty heartbeat (an edge of an earlier release) says nothing but that the edge is alive. */
export function decodeHeartbeat(data: Uint8Array): EdgeHeartbeat | null {
  if (data.byteLength === 0) return { v: HEARTBEAT_FORMAT, refused: {} };
  try {
    const parsed = heartbeatMessage.safeParse(
      JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8')),
    );
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/**
 * On a node that shows device statuses from other edges: which edge each online device is connected to,
 * and when each edge was last heard. An edge killed with SIGKILL tells nobody that its devices went
 * offline; once it is silent for EDGE_SILENT_MS its devices are reported offline, except those that have
 * meanwhile come online through another edge (a device reconnects through haproxy within a second).
 */
export class EdgeLiveness {
  private readonly heard = new Map<string, number>();
  private readonly deviceEdge = new Map<string, string>();

  constructor(private readonly silentMs: number = EDGE_SILENT_MS) {}

  heartbeat(origin: string, now: number): void {
    this.heard.set(origin, now);
  }

  /** A status an edge published: an online device is now that edge's; offline frees it. */
  status(origin: string, s: DeviceStatusChanged, now: number): void {
    // an edge heard of only through a status counts as heard now (its heartbeat is on its way)
    if (!this.heard.has(origin)) this.heard.set(origin, now);
    if (s.online) this.deviceEdge.set(s.deviceId, origin);
    else if (this.deviceEdge.get(s.deviceId) === origin) this.deviceEdge.delete(s.deviceId);
  }

  /** The devices of edges silent too long, as offline statuses; those edges are forgotten. */
  sweep(now: number): DeviceStatusChanged[] {
    const dead = new Set<string>();
    for (const [origin, at] of this.heard) if (now - at > this.silentMs) dead.add(origin);
    if (dead.size === 0) return [];
    const out: DeviceStatusChanged[] = [];
    for (const [deviceId, origin] of this.deviceEdge)
      if (dead.has(origin)) {
        this.deviceEdge.delete(deviceId);
        out.push({ deviceId, online: false, at: now });
      }
    for (const origin of dead) this.heard.delete(origin);
    return out;
  }

  get edges(): number {
    return this.heard.size;
  }
}
