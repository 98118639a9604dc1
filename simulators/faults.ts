import { z } from 'zod';
import type { DeviceKind } from '../core/device-kind.ts';
import type { ErrorCode } from '../core/errors.ts';
import type { ReadingPayload } from '../core/reading-schema.ts';
import type { Prng } from './prng.ts';

const probability = z.number().min(0).max(1);

/**
 * Fault injection: each rate is a probability per reading (0 = never). Every injected fault is counted,
 * so a test can compare what was injected with what the platform refused.
 */
export const faultOptionsSchema = z
  .object({
    /** Payload cut in half: not valid JSON (→ INGEST_MALFORMED_JSON). */
    malformed: probability.default(0),
    /** One metric far above its kind's plausible range (→ INGEST_OUT_OF_RANGE). */
    outOfRange: probability.default(0),
    /** One metric sent with an unknown unit, "furlongs" (→ INGEST_UNKNOWN_UNIT). */
    wrongUnit: probability.default(0),
    /** The same message sent twice (stored once: not a refusal). */
    duplicate: probability.default(0),
    /** A reading held back and sent after the next one (arrives out of order; accepted). */
    outOfOrder: probability.default(0),
    /** A reading stamped `lateByMs` in the past (accepted inside the late window, else INGEST_TS_TOO_OLD). */
    late: probability.default(0),
    lateByMs: z.number().int().positive().default(3_600_000),
    /** Share of devices whose clock is off by `clockSkewSec` (positive = ahead; far ahead → INGEST_TS_FUTURE). */
    clockSkewShare: probability.default(0),
    clockSkewSec: z.number().default(600),
    /** The device drops its connection (no DISCONNECT: the last will fires) and stays silent `dropoutMs`. */
    dropout: probability.default(0),
    dropoutMs: z.number().int().nonnegative().default(5_000),
  })
  .strict();

export type FaultOptions = z.infer<typeof faultOptionsSchema>;
export type FaultOptionsInput = z.input<typeof faultOptionsSchema>;

export const FAULT_TYPES = [
  'malformed',
  'outOfRange',
  'wrongUnit',
  'duplicate',
  'outOfOrder',
  'late',
  'clockSkew',
  'dropout',
] as const;
export type FaultType = (typeof FAULT_TYPES)[number];
export type FaultCounts = Record<FaultType, number>;

/** The refusal code the platform is expected to answer each fault with (absent: accepted). */
export const EXPECTED_REFUSAL: Readonly<Partial<Record<FaultType, ErrorCode>>> = {
  malformed: 'INGEST_MALFORMED_JSON',
  outOfRange: 'INGEST_OUT_OF_RANGE',
  wrongUnit: 'INGEST_UNKNOWN_UNIT',
};

export const WRONG_UNIT = 'furlongs';

export const emptyFaultCounts = (): FaultCounts =>
  Object.fromEntries(FAULT_TYPES.map((t) => [t, 0])) as FaultCounts;

/** Turns a reading's JSON into a payload that is certainly not JSON: an object cut before its closing brace. */
export const breakJson = (json: string): string => json.slice(0, Math.max(1, Math.floor(json.length / 2)));

/**
 * Decides, from the device's own seeded stream, which faults hit a reading, and shapes the reading.
 * Message-level faults (malformed, duplicate) are asked for only when a message really goes out.
 */
export class FaultInjector {
  readonly counts: FaultCounts = emptyFaultCounts();
  /** Device clock offset, ms (0 for a device with a correct clock). */
  readonly skewMs: number;
  private readonly refusable = new WeakSet<ReadingPayload>();

  constructor(
    private readonly options: FaultOptions,
    private readonly prng: Prng,
    private readonly kind: DeviceKind,
  ) {
    this.skewMs = prng.chance(options.clockSkewShare) ? Math.round(options.clockSkewSec * 1000) : 0;
  }

  /**
   * Value-level faults: late timestamp, then at most one of out-of-range value / unknown unit. The two
   * refusable ones are applied only to a reading that goes out live (`live`): the platform refuses a
   * back-fill batch as a whole, so a bad reading inside one would hide its good neighbours and make
   * "injected" and "refused" impossible to compare.
   */
  shape(
    reading: ReadingPayload,
    tsMs: number,
    formatTs: (ms: number) => string | number,
    live: boolean,
  ): ReadingPayload {
    if (this.skewMs !== 0) this.counts.clockSkew++;
    let out = reading;
    if (this.prng.chance(this.options.late)) {
      this.counts.late++;
      out = { ...out, ts: formatTs(tsMs - this.options.lateByMs) };
    }
    if (!live) return out;
    if (this.prng.chance(this.options.outOfRange)) {
      const metric = this.prng.pick(this.kind.metrics);
      this.counts.outOfRange++;
      const span = metric.max - metric.min;
      out = { ...out, values: { ...out.values, [metric.name]: metric.max + Math.max(1, span) } };
      this.refusable.add(out);
    } else if (this.prng.chance(this.options.wrongUnit)) {
      const metric = this.prng.pick(this.kind.metrics);
      const current = out.values[metric.name];
      const value = typeof current === 'number' ? current : (current?.value ?? 0);
      this.counts.wrongUnit++;
      out = { ...out, values: { ...out.values, [metric.name]: { value, unit: WRONG_UNIT } } };
      this.refusable.add(out);
    }
    return out;
  }

  /** The reading already carries a fault the platform refuses: no second fault on its message. */
  isRefusable(reading: ReadingPayload): boolean {
    return this.refusable.has(reading);
  }

  holdBack(): boolean {
    return this.take('outOfOrder');
  }

  malformed(): boolean {
    return this.take('malformed');
  }

  duplicate(): boolean {
    return this.take('duplicate');
  }

  dropout(): boolean {
    return this.take('dropout');
  }

  get dropoutMs(): number {
    return this.options.dropoutMs;
  }

  private take(type: 'outOfOrder' | 'malformed' | 'duplicate' | 'dropout'): boolean {
    if (!this.prng.chance(this.options[type])) return false;
    this.counts[type]++;
    return true;
  }
}
