/**
 * How a step is judged and which offered rate comes next. Pure functions, so the rule printed with the
 * results is the rule applied (and is tested on synthetic numbers in stepping.test.ts).
 */

export const SUSTAINED_DEFINITION = [
  "'Sustained' at an offered rate R (readings/s) means, over the measured window of the step:",
  '  1. the broker did not push back: under 2 % of R × window found the socket buffer full (64 KB) or',
  '     the QoS 1 in-flight window (100 per connection) used up;',
  '  2. at least 98 % of what was written was delivered to the consumer by the end of the window + 250 ms',
  "     (by the consumer's clock);",
  '  3. nothing lost: every message sent (QoS 0) or acknowledged (QoS 1) in the window reached the',
  '     consumer by the end of the drain (a few seconds);',
  '  4. no growing backlog: the median publish→consumer latency of messages sent in the last quarter of',
  '     the window is at most max(2 × , +20 ms over) that of the second quarter; for citymetrics also the',
  '     series-store backlog (values logged, not yet rolled up) drains by the end of the drain.',
  'Rates grow by a fixed factor from the start rate until a step fails, then bisect between the last good',
  'and the first failed rate. The maximum sustained rate is the highest good rate. A step the system',
  'passed but where the generator wrote under 98 % of R × window is "generator-limited": the search ends',
  'there and the maximum is marked "≥".',
].join('\n');

export interface StepObservation {
  targetRate: number;
  windowMs: number;
  qos: 0 | 1;
  /** messages the generator wrote in the window */
  sent: number;
  /** messages the generator could not write because its own loop fell behind (CPU) */
  generatorBehind: number;
  /** messages skipped because the socket buffer was full or QoS 1 in-flight was at its cap */
  blocked: number;
  /** QoS 1: PUBACKs received for window messages, by the end of the drain */
  acked: number;
  /** window messages at the consumer by window end + 250 ms */
  deliveredEarly: number;
  /** window messages at the consumer by the end of the drain */
  deliveredFinal: number;
  /** median latency (ms) of messages sent in the second and the last quarter of the window */
  latencyP50Q2: number;
  latencyP50Q4: number;
  /** citymetrics: values logged but not yet in the series store, at the end of the drain */
  storeBacklogFinal?: number;
}

export type Verdict = 'ok' | 'fail' | 'generator-limited';

export interface StepJudgement {
  verdict: Verdict;
  reasons: string[];
  /** messages sent/acknowledged in the window that never reached the consumer */
  lost: number;
}

const SHARE = 0.98;

export function judgeStep(o: StepObservation): StepJudgement {
  const reasons: string[] = [];
  const target = (o.targetRate * o.windowMs) / 1000;
  const expected = o.qos === 1 ? o.acked : o.sent;
  const lost = Math.max(0, expected - o.deliveredFinal);
  // The system under test first: only a step it passed can be blamed on the generator.
  if (o.blocked > (1 - SHARE) * target)
    reasons.push(`broker pushed back: ${o.blocked} messages could not be written`);
  if (o.deliveredEarly < SHARE * o.sent) reasons.push(`delivered ${o.deliveredEarly} of ${o.sent} in time`);
  if (lost > 0) reasons.push(`lost ${lost} ${o.qos === 1 ? 'acknowledged' : 'sent'} messages`);
  const q2 = o.latencyP50Q2;
  const q4 = o.latencyP50Q4;
  if (Number.isFinite(q2) && Number.isFinite(q4) && q4 > Math.max(2 * q2, q2 + 20))
    reasons.push(`backlog growing: median latency ${q2.toFixed(1)} → ${q4.toFixed(1)} ms`);
  if ((o.storeBacklogFinal ?? 0) > 0) reasons.push(`series store ${o.storeBacklogFinal} values behind`);
  if (reasons.length > 0) return { verdict: 'fail', reasons, lost };
  if (o.generatorBehind > (1 - SHARE) * target) {
    return {
      verdict: 'generator-limited',
      reasons: [`the generator wrote only ${o.sent} of ${Math.round(target)} (its own CPU is the limit)`],
      lost,
    };
  }
  return { verdict: 'ok', reasons, lost };
}

export interface StepPlan {
  startRate: number;
  maxRate: number;
  /** each good step multiplies the rate by this (2 in a full run) */
  factor: number;
  /** bisection steps after the first failure */
  bisections: number;
  /** rates are rounded to this */
  granularity: number;
}

export interface StepResultLite {
  rate: number;
  verdict: Verdict;
}

/** The next rate to offer, or null when the search is over. */
export function nextRate(history: readonly StepResultLite[], plan: StepPlan): number | null {
  if (history.length === 0) return plan.startRate;
  if (history.some((h) => h.verdict === 'generator-limited')) return null;
  const good = history.filter((h) => h.verdict === 'ok').map((h) => h.rate);
  const bad = history.filter((h) => h.verdict === 'fail').map((h) => h.rate);
  const lo = good.length > 0 ? Math.max(...good) : 0;
  if (bad.length === 0) {
    const next = lo * plan.factor;
    return next > plan.maxRate ? null : next;
  }
  const hi = Math.min(...bad.filter((r) => r > lo), Number.POSITIVE_INFINITY);
  const firstFailure = history.findIndex((h) => h.verdict === 'fail');
  const bisectionsDone = history.length - 1 - firstFailure;
  if (bisectionsDone >= plan.bisections || !Number.isFinite(hi)) return null;
  const mid = Math.round((lo + hi) / 2 / plan.granularity) * plan.granularity;
  if (mid <= lo || mid >= hi) return null;
  return mid;
}

/** The maximum sustained rate found, and whether the generator (not the system under test) capped it. */
export function maxSustained(history: readonly StepResultLite[]): {
  rate: number;
  generatorLimited: boolean;
} {
  const good = history.filter((h) => h.verdict === 'ok').map((h) => h.rate);
  return {
    rate: good.length > 0 ? Math.max(...good) : 0,
    generatorLimited: history.some((h) => h.verdict === 'generator-limited'),
  };
}
