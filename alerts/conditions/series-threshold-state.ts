import { inClearZone, type SeriesThreshold } from '../alert-types.ts';

/**
 * Running state of one series-threshold rule: per subject (a device, a district or the city), since when
 * the condition has held and, once an alert is open, since when the value has been back past the threshold
 * by the rule's clearing margin. An alert opens after `forMinutes` of the condition and clears after
 * `clearForMinutes` in the clearing zone; between the threshold and the margin nothing changes, so a value
 * hovering around the threshold neither opens nor clears alerts at every reading. Time is the readings' own timestamps, never the wall clock: a back-filled hour of
 * readings that stayed above the threshold opens the alert exactly as a live hour would, and a stalled
 * device does not "hold" a condition it no longer reports.
 *
 * District and city values are the mean of each device's latest value (newest by reading timestamp), kept
 * as a running sum so that each reading costs O(1) on the ingest path.
 *
 * Bounded: at most `maxSubjects` devices are tracked per rule; readings of further devices are ignored
 * (counted in `ignored`).
 */

export type Transition =
  | { kind: 'open'; subject: string; value: number; since: number }
  | { kind: 'clear'; subject: string; value: number }
  | { kind: 'update'; subject: string; value: number };

interface Holding {
  since: number | null;
  /** Latched once the duration was met, so the alert is opened once per episode. */
  fired: boolean;
  /** Since when the value has been in the clearing zone (past the threshold by the margin). */
  clearSince: number | null;
  /**
   * A clear was told for the current quiet stretch. Starts false so that the first one is told even when
   * this state never opened the alert: after a restart the engine holds alerts opened before it.
   */
  clearTold: boolean;
  lastTs: number;
}

interface Mean {
  sum: number;
  n: number;
}

export class SeriesThresholdState {
  private readonly holding = new Map<string, Holding>();
  /** device → its latest value and timestamp (aggregate scopes only) */
  private readonly devices = new Map<string, { value: number; ts: number; group: string }>();
  private readonly means = new Map<string, Mean>();
  ignored = 0;

  constructor(
    readonly rule: SeriesThreshold,
    private readonly maxSubjects = 50_000,
  ) {}

  /** Whether a reading of this device and metric concerns the rule at all (cheap, checked first). */
  matches(deviceId: string, district: string, metric: string): boolean {
    const r = this.rule;
    if (metric !== r.metric) return false;
    if (r.district !== undefined && r.district !== district) return false;
    if (r.device !== undefined && r.device !== deviceId) return false;
    return true;
  }

  /** Feeds one reading; returns what changed for its subject, or null. */
  offer(deviceId: string, district: string, value: number, ts: number): Transition | null {
    const r = this.rule;
    if (r.scope === 'device') return this.evaluate(deviceId, value, ts);
    const group = r.scope === 'district' ? district : 'city';
    const known = this.devices.get(deviceId);
    if (known !== undefined && known.ts > ts) return null; // older than what we hold: latest wins
    if (known === undefined && this.devices.size >= this.maxSubjects) {
      this.ignored++;
      return null;
    }
    const mean = this.means.get(group) ?? { sum: 0, n: 0 };
    if (known !== undefined) {
      const old = this.means.get(known.group);
      if (old) {
        old.sum -= known.value;
        old.n -= 1;
      }
    }
    mean.sum += value;
    mean.n += 1;
    this.means.set(group, mean);
    this.devices.set(deviceId, { value, ts, group });
    return this.evaluate(group, mean.sum / mean.n, ts);
  }

  private evaluate(subject: string, value: number, ts: number): Transition | null {
    const r = this.rule;
    let h = this.holding.get(subject);
    if (h === undefined) {
      if (this.holding.size >= this.maxSubjects) {
        this.ignored++;
        return null;
      }
      h = { since: null, fired: false, clearSince: null, clearTold: false, lastTs: ts };
      this.holding.set(subject, h);
    } else if (ts < h.lastTs) {
      return null; // a late reading does not rewrite the episode
    }
    h.lastTs = ts;
    const holds = r.op === '>' ? value > r.value : value < r.value;
    if (holds) {
      h.clearSince = null;
      h.since ??= ts;
      if (h.fired) return { kind: 'update', subject, value };
      if (ts - h.since >= r.forMinutes * 60_000) {
        h.fired = true;
        h.clearTold = false;
        return { kind: 'open', subject, value, since: h.since };
      }
      return null;
    }
    // The condition broke: an alert not yet open needs a whole new `forMinutes`.
    h.since = null;
    if (!inClearZone(r, value)) {
      h.clearSince = null;
      return h.fired ? { kind: 'update', subject, value } : null;
    }
    h.clearSince ??= ts;
    if (ts - h.clearSince < r.clearForMinutes * 60_000)
      return h.fired ? { kind: 'update', subject, value } : null;
    if (!h.fired && h.clearTold) return null;
    h.fired = false;
    h.clearTold = true;
    return { kind: 'clear', subject, value };
  }

  /** Subjects tracked (for tests and bounds). */
  get size(): number {
    return this.holding.size;
  }
}
