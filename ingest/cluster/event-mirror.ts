import type { Logger } from '../../core/logger.ts';
import type { DeviceEventRecord, EventQuery } from '../durable-log.ts';
import { PostgresDeviceEvents } from './postgres-device-events.ts';

/**
 * How far behind its highest seq a catch-up reads again. A seq is taken when a row is inserted, not when it
 * commits: a writer may commit seq 11 while another's 10 is still uncommitted, so reading only past the
 * highest seen would skip 10 for ever. Rows read again are recognised by identity and not added twice.
 */
const SEQ_LOOKBACK = 10_000;

export interface EventMirrorOptions {
  url: string;
  logger: Logger;
  /** Events with a reading time older than this are not held (ms). Default 400 days: a year and its months. */
  horizonMs?: number;
  /** Most events held; past it the oldest go (and it is logged once). Default 1 000 000. */
  maxEvents?: number;
  now?: () => number;
}

/**
 * What a kpi or api node reads device events from in a cluster: the events the writers stored in
 * PostgreSQL, held in memory (a formula reads them synchronously, as it reads the single process's log),
 * and caught up from the highest seq it has whenever a writer announces an insert, or after the feed was
 * lost. Events are few (outages, dispatches), so a year of them fits; the bound is logged if reached.
 */
export class EventMirror {
  private events: DeviceEventRecord[] = [];
  private lastSeq = 0;
  /** Identities (device, type, ts) held, so that a row read again is not a second event. */
  private readonly held = new Set<string>();
  private catching: Promise<void> | null = null;
  private again = false;
  private warnedFull = false;
  private readonly listeners = new Set<() => void>();
  private readonly horizonMs: number;
  private readonly maxEvents: number;
  private readonly now: () => number;

  private constructor(
    private store: PostgresDeviceEvents | null,
    private readonly log: Logger,
    options: EventMirrorOptions,
  ) {
    this.horizonMs = options.horizonMs ?? 400 * 86_400_000;
    this.maxEvents = options.maxEvents ?? 1_000_000;
    this.now = options.now ?? Date.now;
  }

  static async open(options: EventMirrorOptions): Promise<EventMirror> {
    const log = options.logger.child({ component: 'event-mirror' });
    const mirror = new EventMirror(null, log, options);
    mirror.store = await PostgresDeviceEvents.open({
      url: options.url,
      logger: options.logger,
      onStored: () => void mirror.catchUp(),
    });
    await mirror.catchUp();
    return mirror;
  }

  /** Called after new events were taken in (to recompute the KPIs they feed). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get size(): number {
    return this.events.length;
  }

  /** Reads what was stored since the last catch-up (coalesced). */
  catchUp(): Promise<void> {
    if (this.catching !== null) {
      this.again = true;
      return this.catching;
    }
    this.catching = (async () => {
      // Rows read are staged and made visible together, right before the listeners hear of them: a
      // reader never sees events it was not told of, nor half of one catch-up.
      const fresh: DeviceEventRecord[] = [];
      try {
        do {
          this.again = false;
          let from = Math.max(0, this.lastSeq - SEQ_LOOKBACK);
          for (;;) {
            const rows = await this.store!.since(from, this.now() - this.horizonMs);
            if (rows.length === 0) break;
            for (const r of rows) {
              const { seq, ...event } = r;
              from = Math.max(from, seq);
              this.lastSeq = Math.max(this.lastSeq, seq);
              const key = `${event.deviceId}\u0000${event.type}\u0000${event.ts}`;
              if (this.held.has(key)) continue;
              this.held.add(key);
              fresh.push(event);
            }
          }
        } while (this.again);
      } catch (err) {
        this.log.warn({ err }, 'device events not read; the next announcement retries');
      } finally {
        this.catching = null;
      }
      // What was read before a failure is kept: lastSeq has moved past it.
      if (fresh.length === 0) return;
      this.events = this.events.concat(fresh);
      this.trim();
      for (const l of this.listeners) {
        try {
          l();
        } catch (err) {
          this.log.error({ err }, 'event mirror listener threw');
        }
      }
    })();
    return this.catching;
  }

  private trim(): void {
    const oldest = this.now() - this.horizonMs;
    this.events = this.events.filter((e) => {
      if (e.ts >= oldest) return true;
      this.held.delete(`${e.deviceId}\u0000${e.type}\u0000${e.ts}`);
      return false;
    });
    const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
    this.events.sort((a, b) => a.ts - b.ts || cmp(a.deviceId, b.deviceId) || cmp(a.type, b.type));
    if (this.events.length > this.maxEvents) {
      if (!this.warnedFull)
        this.log.warn({ max: this.maxEvents }, 'device events beyond the bound: the oldest dropped');
      this.warnedFull = true;
      for (const e of this.events.slice(0, this.events.length - this.maxEvents))
        this.held.delete(`${e.deviceId}\u0000${e.type}\u0000${e.ts}`);
      this.events = this.events.slice(this.events.length - this.maxEvents);
    }
  }

  /** The same query as the single process's log: [from, to), optionally by devices and types, by time. */
  queryEvents(q: EventQuery): DeviceEventRecord[] {
    const devices = q.deviceIds === undefined ? null : new Set(q.deviceIds);
    const types = q.types === undefined ? null : new Set(q.types);
    const out: DeviceEventRecord[] = [];
    const limit = q.limit ?? 100_000;
    for (const e of this.events) {
      if (e.ts < q.from) continue;
      if (e.ts >= q.to) break;
      if (devices !== null && !devices.has(e.deviceId)) continue;
      if (types !== null && !types.has(e.type)) continue;
      out.push(e);
      if (out.length >= limit) break;
    }
    return out;
  }

  async close(): Promise<void> {
    await this.catching;
    await this.store?.close();
  }
}
