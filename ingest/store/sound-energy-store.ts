import type { PackedPoints } from '../../core/packed-points.ts';
import type { SeriesPoint, SeriesStore, WriteOutcome } from '../../core/ports/series-store.ts';
import { energyMetric, isEnergyMetric, toEnergy } from '../../core/sound-level.ts';

/** Whether a metric of a device kind is a sound level in decibels (its canonical unit). */
export type SoundLevelMetric = (kind: string, metric: string) => boolean;

/**
 * A series store that keeps, next to every sound-level point, its companion point `<metric>.energy` =
 * 10^(L/10) with the same device, kind, district and ts (core/sound-level.ts says why). Wrapping the store
 * puts the rule in one place for every writer (the materializer, the cluster writer) and asks nothing of the
 * backends: SQLite, InfluxDB and PostgreSQL store the companion as any other series.
 *
 * The companion follows its point's identity: a duplicate reading makes a duplicate companion, a revised
 * reading revises the companion. Companions are written first and their outcome is not reported, so
 * inserted, duplicates and revisions count readings, as before. A failure between the two writes leaves
 * companions without their points; the caller retries the batch (it is not acknowledged) and the
 * companions are then duplicates. Device views (`latest`) never show a companion.
 */
export function withSoundEnergy(store: SeriesStore, isSoundLevel: SoundLevelMetric): SeriesStore {
  const companionsOf = (points: readonly SeriesPoint[]): SeriesPoint[] => {
    const out: SeriesPoint[] = [];
    for (const p of points)
      if (isSoundLevel(p.kind, p.metric))
        out.push({ ...p, metric: energyMetric(p.metric), value: toEnergy(p.value) });
    return out;
  };

  const packedCompanions = (packed: PackedPoints): SeriesPoint[] => {
    const { strings, refs, ts, values } = packed;
    // Whether each (kind, metric) pair of the string table is a sound level, decided once per batch.
    const decided = new Map<number, boolean>();
    const out: SeriesPoint[] = [];
    for (let i = 0; i < ts.length; i++) {
      const r = i * 4;
      const kindRef = refs[r + 1]!;
      const metricRef = refs[r + 3]!;
      const key = kindRef * strings.length + metricRef;
      let level = decided.get(key);
      if (level === undefined) {
        level = isSoundLevel(strings[kindRef]!, strings[metricRef]!);
        decided.set(key, level);
      }
      if (!level) continue;
      out.push({
        deviceId: strings[refs[r]!]!,
        kind: strings[kindRef]!,
        district: strings[refs[r + 2]!]!,
        metric: energyMetric(strings[metricRef]!),
        ts: ts[i]!,
        value: toEnergy(values[i]!),
      });
    }
    return out;
  };

  const writeCompanions = async (companions: SeriesPoint[]): Promise<void> => {
    if (companions.length > 0) await store.write(companions);
  };

  const wrapped: SeriesStore = {
    name: store.name,
    ...(store.preferredBatchValues === undefined ? {} : { preferredBatchValues: store.preferredBatchValues }),
    async write(points: readonly SeriesPoint[]): Promise<WriteOutcome> {
      await writeCompanions(companionsOf(points));
      return store.write(points);
    },
    query: (q) => store.query(q),
    aggregate: (q) => store.aggregate(q),
    latest: async (deviceId) => (await store.latest(deviceId)).filter((v) => !isEnergyMetric(v.metric)),
    prune: (now) => store.prune(now),
    health: () => store.health(),
    close: () => store.close(),
  };
  const writePacked = store.writePacked?.bind(store);
  if (writePacked !== undefined)
    wrapped.writePacked = async (packed) => {
      // Read before writing: a threaded store transfers the packed buffers away.
      await writeCompanions(packedCompanions(packed));
      return writePacked(packed);
    };
  const aggregateByDevice = store.aggregateByDevice?.bind(store);
  if (aggregateByDevice !== undefined) wrapped.aggregateByDevice = (q) => aggregateByDevice(q);
  return wrapped;
}
