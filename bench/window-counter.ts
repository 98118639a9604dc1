import { type HistogramWire, LatencyHistogram } from './histogram.ts';

export interface WindowReport {
  /** every message the consumer saw since it started */
  totalMessages: number;
  /** messages whose send time (ts) lies in the window, and their values */
  messages: number;
  /** of those, received by the deadline (window end + grace), by the consumer's own clock */
  onTime: number;
  values: number;
  latency: HistogramWire;
  latencyQ2: HistogramWire;
  latencyQ4: HistogramWire;
}

/**
 * The consumer side of a step: counts what arrives and, for messages sent inside the measured window
 * (by their ts = send time), records publish→consumer latency. Messages of the warm-up or of a previous
 * step are counted in the total only.
 */
export class WindowCounter {
  private total = 0;
  private t0 = Number.POSITIVE_INFINITY;
  private t1 = Number.POSITIVE_INFINITY;
  private q2: [number, number] = [0, 0];
  private q4: [number, number] = [0, 0];
  private deadline = Number.POSITIVE_INFINITY;
  private messages = 0;
  private onTime = 0;
  private values = 0;
  private hist = new LatencyHistogram();
  private histQ2 = new LatencyHistogram();
  private histQ4 = new LatencyHistogram();

  /** `graceMs`: how long after the window a message still counts as delivered in time. */
  setWindow(t0: number, t1: number, graceMs = 250): void {
    this.t0 = t0;
    this.t1 = t1;
    this.deadline = t1 + graceMs;
    this.onTime = 0;
    const q = (t1 - t0) / 4;
    this.q2 = [t0 + q, t0 + 2 * q];
    this.q4 = [t0 + 3 * q, t1];
    this.messages = 0;
    this.values = 0;
    this.hist = new LatencyHistogram();
    this.histQ2 = new LatencyHistogram();
    this.histQ4 = new LatencyHistogram();
  }

  record(ts: number, values: number, now: number): void {
    this.total++;
    if (!(ts >= this.t0 && ts < this.t1)) return;
    this.messages++;
    if (now <= this.deadline) this.onTime++;
    this.values += values;
    const ms = now - ts;
    this.hist.record(ms);
    if (ts >= this.q2[0] && ts < this.q2[1]) this.histQ2.record(ms);
    else if (ts >= this.q4[0]) this.histQ4.record(ms);
  }

  report(): WindowReport {
    return {
      totalMessages: this.total,
      messages: this.messages,
      onTime: this.onTime,
      values: this.values,
      latency: this.hist.toWire(),
      latencyQ2: this.histQ2.toWire(),
      latencyQ4: this.histQ4.toWire(),
    };
  }
}
