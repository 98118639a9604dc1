/**
 * The time-series store port. The embedded SQLite store and the InfluxDB store implement it and both pass
 * the contract suite in test/contracts/series-store.contract.ts.
 *
 * Identity of a point is (deviceId, metric, ts). Writing the same identity and value again changes nothing
 * (a duplicate); writing another value for it is a revision: the new value replaces the old one in queries
 * and roll-ups, and the store reports it so that history is kept.
 */
import type { PackedPoints } from '../packed-points.ts';

export type Step = 'minute' | 'hour' | 'day';
export const STEPS: readonly Step[] = ['minute', 'hour', 'day'];

export interface SeriesPoint {
  deviceId: string;
  kind: string;
  district: string;
  metric: string;
  /** epoch ms */
  ts: number;
  /** canonical unit of the metric */
  value: number;
}

export interface Revision {
  deviceId: string;
  metric: string;
  ts: number;
  previous: number;
  value: number;
}

export interface WriteOutcome {
  /** identities seen for the first time */
  inserted: number;
  /** identities already stored with the same value: nothing changed */
  duplicates: number;
  /** identities already stored with another value: replaced, listed here */
  revisions: Revision[];
}

export type SeriesScope = { device: string } | { district: string } | { city: true };

export interface SeriesQuery {
  scope: SeriesScope;
  metric: string;
  /** inclusive, epoch ms */
  from: number;
  /** exclusive, epoch ms */
  to: number;
  step: Step;
}

/** A mergeable aggregate over one bucket. `t` is the bucket start (minute, hour or day in the city zone). */
export interface Bucket {
  t: number;
  count: number;
  sum: number;
  min: number;
  max: number;
  mean: number;
  firstTs: number;
  first: number;
  lastTs: number;
  last: number;
}

/** Per-device aggregates of one metric over [from, to), optionally of one kind or district. */
export interface DeviceAggregateQuery {
  metric: string;
  /** device kind (as written with the points); all kinds when absent */
  kind?: string;
  /** district (the device's current one); all districts when absent */
  district?: string;
  /** inclusive, epoch ms */
  from: number;
  /** exclusive, epoch ms */
  to: number;
}

export interface LatestValue {
  metric: string;
  ts: number;
  value: number;
}

export interface StoreHealth {
  ok: boolean;
  /** Why not ok, with a catalogue code where one applies. */
  detail?: string;
  /** Points accepted by write() but not yet durable in the store (buffered stores). */
  pending: number;
  writeFailures: number;
}

export interface SeriesStore {
  readonly name: string;
  /**
   * Optional: how many values one write() should carry. A store whose writes leave the event loop free (a
   * writer thread) gains from larger batches; absent, the ingest pipeline's default applies.
   */
  readonly preferredBatchValues?: number;
  /**
   * Optional: write() for a batch in the packed form of core/packed-points.ts (typed arrays and a
   * string table), which the ingest pipeline keeps its committed values in. Same outcome as write().
   */
  writePacked?(packed: PackedPoints): Promise<WriteOutcome>;
  /**
   * Writes a batch; resolves once the points are durable in the store (or, for a buffered remote store,
   * safely queued under its bound). Rejects with a retryable CityError when the store cannot take them.
   */
  write(points: readonly SeriesPoint[]): Promise<WriteOutcome>;
  query(q: SeriesQuery): Promise<Bucket[]>;
  /** One aggregate over [from, to) for the scope: what KPI formulas use. Null when no point falls in it. */
  aggregate(q: Omit<SeriesQuery, 'step'>): Promise<Bucket | null>;
  /**
   * Optional (additive): every device series of a metric aggregated over [from, to) in one query, keyed by
   * device id; a device with no point in the range is absent. Each entry equals what
   * aggregate({ scope: { device }, metric, from, to }) returns (t = from). KPI completeness over a city of
   * thousands of devices reads one grouped query per metric instead of one query per device.
   */
  aggregateByDevice?(q: DeviceAggregateQuery): Promise<Map<string, Bucket>>;
  /** Newest value (by reading timestamp, not arrival) per metric of a device. */
  latest(deviceId: string): Promise<LatestValue[]>;
  /** Drops data past each tier's retention. Returns rows removed. */
  prune(now: number): Promise<number>;
  health(): StoreHealth;
  /** Flushes what is buffered and releases the store. */
  close(): Promise<void>;
}
