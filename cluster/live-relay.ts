import type { EventEmitter } from 'node:events';
import type { Msg, NatsConnection, Subscription } from 'nats';
import type { Logger } from '../core/logger.ts';
import type { MessageRefused, PlatformEventMap, PlatformEvents } from '../core/platform-events.ts';
import type { Telemetry } from '../core/telemetry.ts';
import { decodeEventMessage, decodeReadingsMessage, ORIGIN_HEADER } from '../ingest/cluster/log-message.ts';
import { decodeStatus, statusSubjects } from './device-status-link.ts';
import { decodeHeartbeat, EDGE_SILENT_MS, EdgeLiveness, edgeHeartbeatSubjects } from './edge-liveness.ts';

/**
 * Refusals announced per heartbeat at most: past it a flood is still a flood (a spike alert's threshold is
 * far below), and announcing each costs the node a listener call.
 */
const MAX_REFUSALS_PER_HEARTBEAT = 10_000;

export interface LiveRelayDeps {
  /** A connection of the relay's own: NATS cuts a slow consumer's connection, which must not be the edge's. */
  nc: Pick<NatsConnection, 'subscribe'>;
  events: PlatformEvents;
  telemetry: Telemetry;
  logger: Logger;
}

export interface LiveRelayOptions {
  subjectPrefix: string;
  /** This process's id: what it published it announced itself when JetStream acknowledged it. */
  origin: string;
  /** Messages received and not yet announced, past which new ones are dropped. Default 10 000. */
  maxPendingMessages?: number;
  /** The same bound in bytes of message data. Default 16 MiB. */
  maxPendingBytes?: number;
  /** Messages announced per turn of the event loop before yielding to I/O. Default 500. */
  batchMessages?: number;
  /** Message ids remembered to skip a QoS 1 resend the stream dropped as a duplicate. Default 20 000. */
  recentIds?: number;
  /** An edge silent this long has its devices reported offline (ms). Default EDGE_SILENT_MS. */
  edgeSilentMs?: number;
  /** The clock edge liveness is judged by (epoch ms). Default Date.now. */
  now?: () => number;
}

export interface LiveRelayStats {
  pending: number;
  pendingBytes: number;
  relayed: number;
  dropped: number;
  /** Dropping now: messages arrive faster than this node announces them. Clears once it caught up. */
  slow: boolean;
}

type Channel = 'readings' | 'events' | 'status';
interface Pending {
  channel: Channel;
  data: Uint8Array;
  origin: string;
}

const MSG_ID_HEADER = 'Nats-Msg-Id';

/**
 * Cluster mode: the readings, device events and device statuses that reach other nodes, announced on this
 * node's PlatformEvents exactly as its own ingest announces them ('readings', 'device-event',
 * 'device-status'), so its live page and per-device counters see every edge; and the refusals each edge
 * counts in its heartbeat, as 'refused' events without a device (for the live page's refusal counts and
 * the refused-spike alerts).
 *
 * A core NATS subscription, no consumer: live events are best-effort and the store is the truth. Core
 * subscribers see every publish on the stream's subjects, including a resend the stream drops as a
 * duplicate, so message ids seen lately are remembered and a repeat skipped. The NATS callback only
 * checks headers and queues the message; decoding and the listeners run in batches that yield to I/O, and
 * the queue is bounded (count and bytes): past it messages are dropped and counted
 * (`citymetrics_live_relay_dropped_total{reason="pending-limit"}`), so a node that falls behind neither
 * grows its memory nor stops reading its socket (which would make the server buffer, then cut it).
 */
export function buildLiveRelay(deps: LiveRelayDeps, options: LiveRelayOptions) {
  const logger = deps.logger.child({ component: 'live-relay' });
  const maxMessages = options.maxPendingMessages ?? 10_000;
  const maxBytes = options.maxPendingBytes ?? 16 * 1024 * 1024;
  const batch = options.batchMessages ?? 500;
  const maxIds = options.recentIds ?? 20_000;
  const { telemetry } = deps;
  const queue: Pending[] = [];
  let head = 0;
  let pendingBytes = 0;
  let relayed = 0;
  let dropped = 0;
  let slow = false;
  let scheduled: NodeJS.Immediate | null = null;
  // Insertion-ordered: the oldest id goes first once the bound is reached.
  const recent = new Set<string>();
  const subs: Subscription[] = [];
  const edges = new EdgeLiveness(options.edgeSilentMs ?? EDGE_SILENT_MS);
  const now = options.now ?? Date.now;
  let sweepTimer: NodeJS.Timeout | null = null;

  const drop = (reason: 'pending-limit' | 'undecodable'): void => {
    dropped++;
    telemetry.liveRelayDropped.inc({ reason });
  };

  const emit = <K extends keyof PlatformEventMap>(name: K, ...args: PlatformEventMap[K]): void => {
    try {
      (deps.events as EventEmitter).emit(name, ...args);
    } catch (err) {
      logger.error({ err, event: name }, 'platform event listener threw');
    }
  };

  /** Emits the message's platform event; false when it does not decode. */
  const announce = (p: Pending): boolean => {
    if (p.channel === 'readings') {
      const points = decodeReadingsMessage(p.data);
      const first = points?.[0];
      if (points === null || first === undefined) return false;
      const { deviceId, kind, district } = first;
      const values = points.map(({ metric, ts, value }) => ({ metric, ts, value }));
      emit('readings', { deviceId, kind, district, values });
      return true;
    }
    if (p.channel === 'events') {
      const event = decodeEventMessage(p.data);
      if (event !== null) emit('device-event', event);
      return event !== null;
    }
    const status = decodeStatus(p.data);
    if (status === null) return false;
    edges.status(p.origin, status, now());
    emit('device-status', status);
    return true;
  };

  const drain = (): void => {
    scheduled = null;
    const end = Math.min(queue.length, head + batch);
    for (; head < end; head++) {
      const p = queue[head] as Pending;
      pendingBytes -= p.data.byteLength;
      if (announce(p)) {
        relayed++;
        telemetry.liveRelayed.inc({ channel: p.channel });
      } else drop('undecodable');
    }
    if (head === queue.length) {
      queue.length = 0;
      head = 0;
      pendingBytes = 0;
      if (slow) logger.info({ dropped }, 'live relay caught up');
      slow = false;
      telemetry.liveRelaySlow.set(0);
    } else {
      // Compacted now and then, so the consumed part of the array does not linger.
      if (head >= batch * 4) {
        queue.splice(0, head);
        head = 0;
      }
      scheduled = setImmediate(drain);
    }
    telemetry.liveRelayPending.set(queue.length - head);
  };

  const offer = (channel: Channel, msg: Msg): void => {
    const h = msg.headers;
    const origin = h?.get(ORIGIN_HEADER) ?? '';
    if (origin === options.origin) return;
    const id = h?.get(MSG_ID_HEADER) ?? '';
    if (id !== '' && recent.has(id)) return;
    if (queue.length - head >= maxMessages || pendingBytes + msg.data.byteLength > maxBytes) {
      if (!slow) logger.warn({ pending: queue.length - head, pendingBytes }, 'live relay falls behind');
      slow = true;
      telemetry.liveRelaySlow.set(1);
      drop('pending-limit');
      return;
    }
    if (id !== '') {
      recent.add(id);
      if (recent.size > maxIds) recent.delete(recent.values().next().value as string);
    }
    queue.push({ channel, data: msg.data, origin });
    pendingBytes += msg.data.byteLength;
    scheduled ??= setImmediate(drain);
  };

  const sweepEdges = (now: number): void => {
    const gone = edges.sweep(now);
    if (gone.length > 0)
      logger.warn({ devices: gone.length }, 'an edge went silent: its devices reported offline');
    for (const s of gone) emit('device-status', s);
  };

  const subscribe = (subject: string, channel: Channel): void => {
    subs.push(
      deps.nc.subscribe(subject, {
        // Never throws: a NATS callback that threw would reach the connection's error path.
        callback: function relayMessage(err, msg) {
          if (err !== null) return;
          try {
            offer(channel, msg);
          } catch (offerErr) {
            logger.error({ err: offerErr }, 'live relay failed on a message');
          }
        },
      }),
    );
  };

  return {
    start(): void {
      if (subs.length > 0) return;
      subscribe(`${options.subjectPrefix}.readings.*`, 'readings');
      subscribe(`${options.subjectPrefix}.events.*`, 'events');
      subscribe(statusSubjects(options.subjectPrefix), 'status');
      // Heartbeats are tiny and not queued: an edge's liveness must not wait behind a burst of readings.
      subs.push(
        deps.nc.subscribe(edgeHeartbeatSubjects(options.subjectPrefix), {
          callback: function edgeAlive(err, msg) {
            if (err !== null) return;
            const origin = msg.headers?.get(ORIGIN_HEADER) ?? '';
            if (origin === '' || origin === options.origin) return;
            const at = now();
            edges.heartbeat(origin, at);
            const beat = decodeHeartbeat(msg.data);
            if (beat === null) {
              drop('undecodable');
              return;
            }
            let budget = MAX_REFUSALS_PER_HEARTBEAT;
            for (const [code, n] of Object.entries(beat.refused))
              for (let i = 0; i < n && budget > 0; i++, budget--)
                emit('refused', { deviceId: null, code: code as MessageRefused['code'], at });
          },
        }),
      );
      const period = Math.max(100, Math.floor((options.edgeSilentMs ?? EDGE_SILENT_MS) / 3));
      sweepTimer = setInterval(() => sweepEdges(now()), period);
      sweepTimer.unref();
    },
    /** Reports offline the devices of edges silent too long (run by a timer; exposed for tests). */
    sweepEdges: (now: number) => sweepEdges(now),
    stats(): LiveRelayStats {
      return { pending: queue.length - head, pendingBytes, relayed, dropped, slow };
    },
    /** Unsubscribes and forgets what was not announced yet (best-effort: the store has it). */
    async close(): Promise<void> {
      if (sweepTimer !== null) clearInterval(sweepTimer);
      sweepTimer = null;
      for (const s of subs.splice(0)) s.unsubscribe();
      if (scheduled !== null) clearImmediate(scheduled);
      scheduled = null;
      queue.length = 0;
      head = 0;
      pendingBytes = 0;
      telemetry.liveRelayPending.set(0);
    },
  };
}

export type LiveRelay = ReturnType<typeof buildLiveRelay>;
