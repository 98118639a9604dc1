import { CityError } from '../../../core/errors.ts';
import type { Bucket, SeriesQuery, SeriesStore } from '../../../core/ports/series-store.ts';
import type { DeviceRegistry } from '../../../devices/registry.ts';

/**
 * Devices one kind series may merge. The stores keep city and district roll-ups across every kind, so a
 * series of one kind is merged here from its devices' own roll-ups: one store query per device. The bound
 * keeps a request from turning into tens of thousands of queries; a bigger fleet is read per district.
 */
export const MAX_KIND_DEVICES = 5_000;
/** Device queries in flight at once: a remote store (InfluxDB) answers them in parallel. */
const PARALLEL = 8;

export interface KindSeriesQuery extends Omit<SeriesQuery, 'scope'> {
  kind: string;
  /** all districts when absent */
  district?: string;
}

/**
 * Buckets of the devices of one kind (in one district, or the whole city), merged by bucket start. A
 * device counts with the district it is registered in now; the district roll-ups of the store count it
 * where it reported from at the time.
 */
export async function kindBuckets(
  store: SeriesStore,
  registry: DeviceRegistry,
  q: KindSeriesQuery,
): Promise<Bucket[]> {
  const ids: string[] = [];
  for (let offset = 0; ; offset += 1000) {
    const page = registry.list({
      kind: q.kind,
      ...(q.district !== undefined ? { district: q.district } : {}),
      limit: 1000,
      offset,
    });
    for (const d of page.items) ids.push(d.id);
    if (offset + 1000 >= page.total) break;
  }
  if (ids.length > MAX_KIND_DEVICES) {
    throw new CityError(
      'API_VALIDATION',
      `${ids.length} devices of kind ${q.kind} in this scope; a kind series merges at most ${MAX_KIND_DEVICES}: ask per district`,
      { field: 'kind' },
    );
  }
  const merged = new Map<number, Bucket>();
  for (let i = 0; i < ids.length; i += PARALLEL) {
    const parts = await Promise.all(
      ids
        .slice(i, i + PARALLEL)
        .map((device) =>
          store.query({ scope: { device }, metric: q.metric, from: q.from, to: q.to, step: q.step }),
        ),
    );
    for (const buckets of parts) for (const b of buckets) mergeBucket(merged, b);
  }
  return [...merged.values()].sort((a, b) => a.t - b.t);
}

/** Same tie rules as the stores' roll-ups: earliest first, latest last, the smaller (larger) value on a tie. */
function mergeBucket(into: Map<number, Bucket>, b: Bucket): void {
  const a = into.get(b.t);
  if (a === undefined) {
    into.set(b.t, { ...b });
    return;
  }
  a.count += b.count;
  a.sum += b.sum;
  a.min = Math.min(a.min, b.min);
  a.max = Math.max(a.max, b.max);
  a.mean = a.sum / a.count;
  if (b.firstTs < a.firstTs || (b.firstTs === a.firstTs && b.first < a.first)) {
    a.firstTs = b.firstTs;
    a.first = b.first;
  }
  if (b.lastTs > a.lastTs || (b.lastTs === a.lastTs && b.last > a.last)) {
    a.lastTs = b.lastTs;
    a.last = b.last;
  }
}
