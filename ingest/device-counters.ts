/**
 * What one device sent and what became of it, since the platform started: messages received, accepted
 * (messages, readings, values), refused by reason, values written to the series store, and, from the
 * device's own `seq` numbers, how many it published and how many never arrived.
 *
 * Only registered devices are counted (the caller checks), so the table is bounded by the registry. Each
 * entry is a few numbers, a small map of refusal codes and a 1 024-bit window of recent seq numbers.
 */
import type { ErrorCode } from '../core/errors.ts';

/** seq numbers closer than this to the highest one seen are told apart (duplicate or late). */
export const SEQ_WINDOW = 1024;

export interface DeviceCounts {
  deviceId: string;
  /** messages handed to ingest (MQTT or HTTP), accepted or not */
  received: number;
  accepted: { messages: number; readings: number; values: number };
  refused: { total: number; byReason: Partial<Record<ErrorCode, number>> };
  /** values written to the series store (a resent value is written again and kept once) */
  stored: number;
  /** From the device's `seq` numbers; null when it sends none. */
  seq: {
    /** seq numbers the device used: the span of each run from its lowest to its highest */
    published: number;
    /** distinct seq numbers that arrived */
    seen: number;
    /** numbers inside the spans that never arrived (lost in transit, or a message too broken to read) */
    gaps: number;
    /** seq numbers that arrived again (resends) */
    repeated: number;
    /** times the numbers started again far below the highest (a device restart) */
    restarts: number;
    highest: number;
  } | null;
  /** epoch ms of the last message received */
  lastAt: number | null;
}

class SeqTracker {
  private first = 0;
  private highest = -1;
  private readonly bits = new Uint32Array(SEQ_WINDOW / 32);
  private closedSpans = 0;
  private closedSeen = 0;
  seen = 0;
  repeated = 0;
  restarts = 0;

  add(seq: number): void {
    if (this.highest < 0) {
      this.begin(seq);
      return;
    }
    if (seq > this.highest) {
      const steps = Math.min(seq - this.highest, SEQ_WINDOW);
      for (let i = 1; i <= steps; i++) this.clear(this.highest + i);
      this.highest = seq;
      this.mark(seq);
      this.seen++;
      return;
    }
    if (seq <= this.highest - SEQ_WINDOW) {
      // Far below the window: the device started counting again.
      this.restarts++;
      this.closedSpans += this.highest - this.first + 1;
      this.closedSeen += this.seen;
      this.seen = 0;
      this.begin(seq);
      return;
    }
    if (seq < this.first) {
      // Below the first number seen but inside the window: an earlier message arriving late.
      for (let s = seq; s < this.first; s++) this.clear(s);
      this.first = seq;
    } else if (this.isMarked(seq)) {
      this.repeated++;
      return;
    }
    this.mark(seq);
    this.seen++;
  }

  counts(): NonNullable<DeviceCounts['seq']> {
    const published = this.closedSpans + (this.highest - this.first + 1);
    const seen = this.closedSeen + this.seen;
    return {
      published,
      seen,
      gaps: Math.max(0, published - seen),
      repeated: this.repeated,
      restarts: this.restarts,
      highest: this.highest,
    };
  }

  private begin(seq: number): void {
    this.bits.fill(0);
    this.first = seq;
    this.highest = seq;
    this.mark(seq);
    this.seen++;
  }

  private slot(seq: number): [number, number] {
    const i = seq % SEQ_WINDOW;
    return [i >>> 5, 1 << (i & 31)];
  }
  private mark(seq: number): void {
    const [w, b] = this.slot(seq);
    this.bits[w]! |= b;
  }
  private clear(seq: number): void {
    const [w, b] = this.slot(seq);
    this.bits[w]! &= ~b;
  }
  private isMarked(seq: number): boolean {
    const [w, b] = this.slot(seq);
    return (this.bits[w]! & b) !== 0;
  }
}

interface Entry {
  received: number;
  acceptedMessages: number;
  acceptedReadings: number;
  acceptedValues: number;
  refusedTotal: number;
  refused: Map<ErrorCode, number>;
  stored: number;
  seq: SeqTracker | null;
  lastAt: number | null;
}

export class DeviceCounters {
  private readonly entries = new Map<string, Entry>();

  received(deviceId: string, at: number, seqs: readonly number[] | undefined): void {
    const e = this.entry(deviceId);
    e.received++;
    e.lastAt = at;
    if (seqs === undefined || seqs.length === 0) return;
    e.seq ??= new SeqTracker();
    for (const s of seqs) e.seq.add(s);
  }

  accepted(deviceId: string, readings: number, values: number): void {
    const e = this.entry(deviceId);
    e.acceptedMessages++;
    e.acceptedReadings += readings;
    e.acceptedValues += values;
  }

  refused(deviceId: string, code: ErrorCode): void {
    const e = this.entry(deviceId);
    e.refusedTotal++;
    e.refused.set(code, (e.refused.get(code) ?? 0) + 1);
  }

  stored(deviceId: string, values: number): void {
    this.entry(deviceId).stored += values;
  }

  /** A device removed from the registry takes its counters with it. */
  forget(deviceId: string): void {
    this.entries.delete(deviceId);
  }

  get(deviceId: string): DeviceCounts | null {
    const e = this.entries.get(deviceId);
    return e === undefined ? null : view(deviceId, e);
  }

  all(): DeviceCounts[] {
    return [...this.entries].map(([id, e]) => view(id, e));
  }

  private entry(deviceId: string): Entry {
    let e = this.entries.get(deviceId);
    if (e === undefined) {
      e = {
        received: 0,
        acceptedMessages: 0,
        acceptedReadings: 0,
        acceptedValues: 0,
        refusedTotal: 0,
        refused: new Map(),
        stored: 0,
        seq: null,
        lastAt: null,
      };
      this.entries.set(deviceId, e);
    }
    return e;
  }
}

function view(deviceId: string, e: Entry): DeviceCounts {
  return {
    deviceId,
    received: e.received,
    accepted: { messages: e.acceptedMessages, readings: e.acceptedReadings, values: e.acceptedValues },
    refused: { total: e.refusedTotal, byReason: Object.fromEntries(e.refused) },
    stored: e.stored,
    seq: e.seq === null ? null : e.seq.counts(),
    lastAt: e.lastAt,
  };
}
