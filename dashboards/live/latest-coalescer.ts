/**
 * Latest value per (device, metric) for the live page: what changed since the last push, and the whole
 * current picture for a client that connects or falls behind. The newest reading timestamp wins, not the
 * last arrival: a back-filled batch must not overwrite fresher values.
 *
 * Bounded: at most `maxSeries` series are tracked; past it the series updated longest ago is dropped
 * (counted in `evicted`), so memory does not grow with the city.
 */
import type { LatestItem } from './live-events.ts';

export type { LatestItem };

export class LatestCoalescer {
  private readonly state = new Map<string, LatestItem>();
  private readonly changed = new Set<string>();
  evicted = 0;

  constructor(private readonly maxSeries: number) {}

  offer(item: LatestItem): void {
    const key = `${item.deviceId}\u0000${item.metric}`;
    const current = this.state.get(key);
    if (current !== undefined && current.ts > item.ts) return;
    // Re-inserted so that Map order is least-recently-updated first: the eviction order.
    this.state.delete(key);
    this.state.set(key, item);
    this.changed.add(key);
    if (this.state.size > this.maxSeries) {
      const oldest = this.state.keys().next().value;
      if (oldest !== undefined) {
        this.state.delete(oldest);
        this.changed.delete(oldest);
        this.evicted++;
      }
    }
  }

  /** What changed since the last drain (latest value of each), and forgets that it changed. */
  drain(): LatestItem[] {
    const out: LatestItem[] = [];
    for (const key of this.changed) {
      const item = this.state.get(key);
      if (item) out.push(item);
    }
    this.changed.clear();
    return out;
  }

  snapshot(): LatestItem[] {
    return [...this.state.values()];
  }

  get size(): number {
    return this.state.size;
  }
}
