import type { DeviceRecord } from '../../core/ports/device-directory.ts';
import type { Bucket } from '../../core/ports/series-store.ts';
import { overlap } from '../../devices/device-life.ts';
import { KindCatalogue } from '../../devices/kind-catalogue.ts';
import { getKpi, type Obtained } from '../catalogue/catalogue.ts';
import { expectedReadings, kpiCompleteness } from '../completeness.ts';
import { deriveDataQuality, type QualityInput } from '../data-quality.ts';
import type {
  DataPointValue,
  DataQuality,
  FormulaContext,
  KpiValue,
  Lineage,
  Period,
  SampleEstimate,
  SeriesUse,
} from '../kpi-types.ts';

/** What a formula returns (the engine stamps computedAt and may force provisional for open periods). */
export type FormulaResult = Omit<
  KpiValue,
  'computedAt' | 'provisional' | 'status' | 'statusReason' | 'completeness'
> & {
  /** null: nothing was owed of what decides the value */
  completeness: number | null;
  provisional: boolean;
};

export interface FormulaMeta {
  code: string;
  version: string;
  description: string;
}

let shippedKinds: KindCatalogue | undefined;
const kindsFallback = (): KindCatalogue => {
  shippedKinds ??= new KindCatalogue();
  return shippedKinds;
};

/**
 * One computation of one formula over one period: it reads inputs through the context and records, as it
 * goes, everything the lineage, completeness and data-quality class need, so that each formula file holds
 * only its arithmetic.
 */
export class FormulaRun {
  readonly unit: string;
  readonly obtained: Obtained;
  private readonly series: SeriesUse[] = [];
  /** device series that count for completeness (city/district series used for a value are lineage only) */
  private readonly counted: SeriesUse[] = [];
  /** the aggregate of each counted series, by its index in `counted` */
  private readonly buckets: Array<Bucket | null> = [];
  private readonly deviceIds = new Set<string>();
  private readonly manualInputs: Lineage['manualInputs'] = [];
  private readonly registryCounts: Record<string, number> = {};
  private readonly notes: string[] = [];
  private readonly quality: QualityInput[] = [];
  private readonly estimates: SampleEstimate[] = [];

  constructor(
    readonly ctx: FormulaContext,
    readonly period: Period,
    readonly meta: FormulaMeta,
  ) {
    const def = getKpi(meta.code);
    if (def === undefined) throw new Error(`formula for unknown KPI ${meta.code}`);
    this.unit = def.unit;
    this.obtained = def.obtained;
  }

  /** Reporting interval of a kind (seconds), from the context or the shipped kinds. */
  intervalSec(kindId: string): number {
    const kind = this.ctx.kind?.(kindId) ?? kindsFallback().get(kindId);
    if (kind === undefined) throw new Error(`unknown device kind ${kindId}`);
    return kind.intervalSec;
  }

  /**
   * The period's device set for a kind: active devices whose installed interval [installedAt, removedAt)
   * overlaps the period (a device provisioned later but installed earlier, a device removed during the
   * period or since: they count for the periods they were installed in), sorted by id, optionally filtered
   * by their attributes. A disabled device ends where it was disabled, as if removed then: it counts, and
   * owes readings, in the periods before (disabling a device today does not rewrite last year), and not
   * after. Every series and completeness figure of a formula is read over this one set.
   */
  devices(kind: string, where: (d: DeviceRecord) => boolean = () => true): DeviceRecord[] {
    return this.ctx
      .devices({ kind })
      .map(asCounted)
      .filter((d) => overlap(d, this.period) !== null && where(d))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /**
   * The aggregate of one device series over the part of the period it was installed for, recorded with
   * its expected readings (readings outside the interval, kept after a forced change, are not counted).
   */
  async deviceAggregate(device: DeviceRecord, metric: string): Promise<Bucket | null> {
    const range = overlap(device, this.period);
    const b =
      range === null
        ? null
        : await this.ctx.store.aggregate({
            scope: { device: device.id },
            metric,
            from: range.start,
            to: range.end,
          });
    const expected = expectedReadings(device, this.intervalSec(device.kind), this.period, this.ctx.now);
    const use = seriesUse('device', device.id, metric, b, expected);
    this.series.push(use);
    this.counted.push(use);
    this.buckets.push(b);
    this.deviceIds.add(device.id);
    return b;
  }

  /**
   * The aggregate of one device series over some stretches of the period (peak hours), recorded with the
   * readings owed in those stretches only. Null when no reading falls in any.
   */
  async deviceAggregateWithin(
    device: DeviceRecord,
    metric: string,
    within: ReadonlyArray<{ start: number; end: number }>,
  ): Promise<Bucket | null> {
    const interval = this.intervalSec(device.kind);
    let merged: Bucket | null = null;
    let expected = 0;
    for (const w of within) {
      expected += expectedReadings(device, interval, w, this.ctx.now);
      const range = overlap(device, w);
      if (range === null) continue;
      const b = await this.ctx.store.aggregate({
        scope: { device: device.id },
        metric,
        from: range.start,
        to: range.end,
      });
      if (b !== null) merged = merged === null ? b : mergeBuckets(merged, b);
    }
    const use = seriesUse('device', device.id, metric, merged, expected);
    this.series.push(use);
    this.counted.push(use);
    this.buckets.push(merged);
    this.deviceIds.add(device.id);
    return merged;
  }

  /** Σ of a metric over devices (quantities per interval: kWh, m³); null when no device sent any reading. */
  async sumOf(
    devices: readonly DeviceRecord[],
    metric: string,
  ): Promise<{ total: number | null; perDevice: Map<string, Bucket | null>; reporting: number }> {
    const perDevice = new Map<string, Bucket | null>();
    let total: number | null = null;
    let reporting = 0;
    for (const d of devices) {
      const b = await this.deviceAggregate(d, metric);
      perDevice.set(d.id, b);
      if (b !== null) {
        total = (total ?? 0) + b.sum;
        reporting++;
      }
    }
    return { total, perDevice, reporting };
  }

  /**
   * The city series of a metric over the period's device set, for lineage: the merge of the device series
   * of that metric read before (never the store's city-wide series, which would hold readings of devices
   * outside the set), with their expected readings summed. Completeness comes from the device series.
   */
  cityAggregate(metric: string): Bucket | null {
    let expected = 0;
    let merged: Bucket | null = null;
    for (const [i, s] of this.counted.entries()) {
      if (s.metric !== metric) continue;
      expected += s.expected;
      const b = this.buckets[i] ?? null;
      if (b !== null) merged = merged === null ? { ...b, t: this.period.start } : mergeBuckets(merged, b);
    }
    this.series.push(seriesUse('city', '', metric, merged, expected));
    return merged;
  }

  /** Hour buckets of a device series while it was installed, recorded through deviceAggregate already. */
  async hourBuckets(device: DeviceRecord, metric: string): Promise<Bucket[]> {
    const range = overlap(device, this.period);
    if (range === null) return [];
    return this.ctx.store.query({
      scope: { device: device.id },
      metric,
      from: range.start,
      to: range.end,
      step: 'hour',
    });
  }

  /** A registry count or sum that the value rests on (devices installed, km, m²). */
  registry(name: string, value: number): number {
    this.registryCounts[name] = value;
    if (!this.quality.some((q) => q.source === 'registry')) this.quality.push({ source: 'registry' });
    return value;
  }

  /** A manual input for the period; null (with a lineage note) when not entered. */
  manual(name: string, unit: string): number | null {
    const m = this.ctx.manualInput(name, this.period);
    if (m === null) {
      this.note(`manual input ${name} (${unit}) not entered`);
      return null;
    }
    this.manualInputs.push({ name, value: m.value, unit: m.unit, source: m.source });
    this.quality.push(
      m.dataQuality === undefined ? { source: 'manual' } : { source: 'manual', dataQuality: m.dataQuality },
    );
    return m.value;
  }

  /**
   * Population effective at the last instant of the period (a census figure effective from 1 January of the
   * next year does not apply to this year). Null, with a note, when the city profile has none: the value is
   * then "NR".
   */
  population(): number | null {
    const p = this.ctx.profile('population', this.period.end - 1);
    if (p === null || !(p.value > 0)) {
      this.note('population not in the city profile for this period: per-capita value not reported (NR)');
      return null;
    }
    this.manualInputs.push({
      name: 'population',
      value: p.value,
      unit: 'inhabitants',
      source: 'city profile',
      effectiveFrom: p.effectiveFrom,
    });
    this.quality.push(
      p.dataQuality === undefined ? { source: 'profile' } : { source: 'profile', dataQuality: p.dataQuality },
    );
    return p.value;
  }

  /**
   * The factor that scales a quantity measured on `sampled` meters up to all the city's meters, the manual
   * input `totalName` (water customers, feeders): total ÷ sampled, recorded as an estimate in the lineage
   * (and the value's class is then at best an estimation). 1 when the input is not entered or the sample is
   * the whole, and null when no meter of the sample reported (nothing to scale).
   */
  sampleFactor(quantity: string, sampled: number, totalName: string, unit: string): number | null {
    const m = this.ctx.manualInput(totalName, this.period);
    if (m === null || !(m.value > sampled)) return 1;
    if (sampled <= 0) return null;
    this.manualInputs.push({ name: totalName, value: m.value, unit: m.unit, source: m.source });
    if (m.dataQuality !== undefined) this.quality.push({ source: 'manual', dataQuality: m.dataQuality });
    const factor = m.value / sampled;
    this.estimates.push({ quantity, sampled, total: m.value, factor, totalFrom: totalName });
    this.assume(
      `estimate: ${quantity} of the ${sampled} ${unit} that reported, scaled up to all ${m.value} (${totalName}) × ${factor.toFixed(4)}`,
    );
    return factor;
  }

  /**
   * The start of the stretch a per-day or per-year rate is measured over: the period's start, or, where
   * every one of `devices` was installed after it began (meters rolled out mid-month, a demo started
   * today), the first installation among them, noted. Dividing by the whole period would understate the
   * rate by the days no meter existed; completeness already owes readings only from installation.
   */
  measuredFrom(devices: readonly DeviceRecord[]): number {
    let from: number | null = null;
    for (const d of devices) {
      const o = overlap(d, this.period);
      if (o !== null && (from === null || o.start < from)) from = o.start;
    }
    if (from === null || from <= this.period.start) return this.period.start;
    this.note(
      `rate over the stretch measured, since ${new Date(from).toISOString()}: no meter was installed earlier in the period`,
    );
    return from;
  }

  /** A stand-in the formula had to make: noted, and the value's class is at best an estimation. */
  assume(text: string, quality: DataQuality = 'estimation-with-assumptions'): void {
    this.note(text);
    this.quality.push({ source: 'manual', dataQuality: quality });
  }

  note(text: string): void {
    if (!this.notes.includes(text)) this.notes.push(text);
  }

  completeness(): number {
    return kpiCompleteness(this.counted);
  }

  /**
   * Completeness of the device series of one metric read so far (data points that stand apart); null when
   * none owed a reading.
   */
  metricCompleteness(metric: string): number | null {
    const series = this.counted.filter((s) => s.metric === metric);
    return series.some((s) => s.expected > 0) ? kpiCompleteness(series) : null;
  }

  /**
   * `completenessOf`: the metric whose device series alone decide the value's completeness (and so its
   * status and data-quality class), where the value is one data point of several measured apart; every
   * series read stays in the lineage.
   */
  finish(
    value: number | null,
    dataPoints: DataPointValue[] = [],
    opts: { completenessOf?: string } = {},
  ): FormulaResult {
    const of = opts.completenessOf;
    // Nothing owed of the metric that decides the value is "no data expected", not complete.
    const completeness = of === undefined ? this.completeness() : this.metricCompleteness(of);
    const readings = this.counted
      .filter((s) => of === undefined || s.metric === of)
      .reduce((n, s) => n + s.readings, 0);
    const quality = [...this.quality];
    if (this.counted.length > 0)
      quality.unshift({ source: 'sensor', completeness: readings > 0 ? (completeness ?? 0) : 0 });
    const threshold = this.ctx.settings.captureThreshold;
    const points =
      dataPoints.length > 0
        ? dataPoints
        : [{ name: getKpi(this.meta.code)!.dataPoints[0]!, value, unit: this.unit }];
    return {
      code: this.meta.code,
      period: this.period,
      value: value !== null && Number.isFinite(value) ? value : null,
      unit: this.unit,
      dataPoints: points,
      dataQuality: value === null ? 'unknown' : deriveDataQuality(quality, threshold),
      completeness,
      provisional: completeness === null || completeness < threshold,
      source: this.obtained,
      lineage: this.lineage(),
    };
  }

  private readingsCounted(): number {
    return this.counted.reduce((n, s) => n + s.readings, 0);
  }

  private lineage(): Lineage {
    let first: number | null = null;
    let last: number | null = null;
    for (const s of this.counted) {
      if (s.firstTs !== null && (first === null || s.firstTs < first)) first = s.firstTs;
      if (s.lastTs !== null && (last === null || s.lastTs > last)) last = s.lastTs;
    }
    const out: Lineage = {
      formulaVersion: this.meta.version,
      formula: this.meta.description,
      devices: [...this.deviceIds],
      series: this.series,
      readings: this.readingsCounted(),
      timeRange:
        first === null || last === null
          ? null
          : { from: new Date(first).toISOString(), to: new Date(last).toISOString() },
      manualInputs: this.manualInputs,
    };
    if (Object.keys(this.registryCounts).length > 0) out.registryCounts = this.registryCounts;
    if (this.notes.length > 0) out.notes = this.notes;
    if (this.estimates.length > 0) out.estimates = this.estimates;
    return out;
  }
}

/** Two aggregates of one series over disjoint stretches, the earlier first. */
function mergeBuckets(a: Bucket, b: Bucket): Bucket {
  const count = a.count + b.count;
  const sum = a.sum + b.sum;
  const early = a.firstTs <= b.firstTs ? a : b;
  const late = a.lastTs >= b.lastTs ? a : b;
  return {
    t: Math.min(a.t, b.t),
    count,
    sum,
    min: Math.min(a.min, b.min),
    max: Math.max(a.max, b.max),
    mean: sum / count,
    firstTs: early.firstTs,
    first: early.first,
    lastTs: late.lastTs,
    last: late.last,
  };
}

function seriesUse(
  scope: SeriesUse['scope'],
  key: string,
  metric: string,
  b: Bucket | null,
  expected: number,
): SeriesUse {
  return {
    scope,
    key,
    metric,
    readings: b?.count ?? 0,
    expected,
    firstTs: b?.firstTs ?? null,
    lastTs: b?.lastTs ?? null,
  };
}

const YEAR_DAYS = 365.2425;

/**
 * Per-year KPIs (kWh per capita per year, interruptions per customer per year) over a shorter period are
 * annualised: value × (mean Gregorian year ÷ length in local days of the span measured, the period or,
 * from `from` (FormulaRun.measuredFrom), the stretch since the first installation). A year and a rolling
 * 12 months measured whole are taken as they are. Adds a lineage note naming the span when it scales.
 */
export function annualFactor(run: FormulaRun, from: number = run.period.start): number {
  const { kind, start, end } = run.period;
  const whole = from <= start;
  if ((kind === 'year' || kind === 'rolling-12-months') && whole) return 1;
  const days = periodLocalDays(run, whole ? start : from);
  if (!(days > 0)) return Number.NaN;
  const span = whole
    ? `the period ${run.period.label}`
    : `${new Date(from).toISOString()} to ${new Date(end).toISOString()}, from the first installation`;
  run.note(
    `annualised over ${span}: × ${(YEAR_DAYS / days).toFixed(4)} (${YEAR_DAYS} days ÷ ${days.toFixed(3)} local days)`,
  );
  return YEAR_DAYS / days;
}

/** Length of the period (from `from`, default its start) in local calendar days (DST days count as one). */
export function periodLocalDays(run: FormulaRun, from: number = run.period.start): number {
  return run.ctx.calendar.local(run.period.end).diff(run.ctx.calendar.local(from), 'days').days;
}

/** A numeric device attribute, or undefined when absent or not a finite number. */
export function numAttr(d: DeviceRecord, name: string): number | undefined {
  const v = d.attributes[name];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** A boolean device attribute; also accepts 1/0 and 'true'/'false' as registries store them. */
export function boolAttr(d: DeviceRecord, name: string): boolean {
  const v = d.attributes[name];
  return v === true || v === 1 || v === 'true';
}

/** a ÷ b × 100, capped at 100 %; null when either is missing or b is not positive. */
export function percentOf(a: number | null, b: number | null, cap = true): number | null {
  if (a === null || b === null || !(b > 0)) return null;
  const p = (a / b) * 100;
  return cap ? Math.min(100, p) : p;
}

/**
 * A device as the KPIs count it: a disabled one is removed since it was disabled (since its installation
 * when that time is not known: a device disabled before the registry kept it).
 */
function asCounted(d: DeviceRecord): DeviceRecord {
  if (d.status !== 'disabled') return d;
  const since = d.disabledAt ?? d.installedAt;
  const end = d.removedAt === null ? since : Math.min(d.removedAt, since);
  return end === d.removedAt ? d : { ...d, removedAt: end };
}
