import type Database from 'better-sqlite3';
import type { SeriesPoint } from '../../core/ports/series-store.ts';

export type ScopeName = 'device' | 'district' | 'city';

/** The key of the one city series of a metric. */
export const CITY_KEY = '';

export interface SeriesInfo {
  id: number;
  scope: ScopeName;
  key: string;
  metric: string;
  /** Device series only: the district the device reports from, and the series its points roll up into. */
  district: string | null;
  districtId: number;
  cityId: number;
}

interface SeriesRow {
  id: number;
  scope: ScopeName;
  key: string;
  metric: string;
  district: string | null;
}

const k = (scope: ScopeName, key: string, metric: string): string => `${scope}\u0000${key}\u0000${metric}`;

/**
 * The series table, mirrored in memory: one entry per (scope, key, metric), so its size is bounded by the
 * registry (devices x metrics, plus districts x metrics), not by traffic. The per-series high-water mark
 * (newest ts stored) is an upper bound only: it is loaded with MAX(ts), only ever raised, and kept when a
 * write rolls back or points are pruned, which at worst costs one lookup.
 */
export class SeriesRegistry {
  private readonly byKey = new Map<string, SeriesInfo>();
  private readonly byId = new Map<number, SeriesInfo>();
  /** device series ids per district series id and per city series id, for recomputing group buckets */
  private readonly members = new Map<number, Set<number>>();
  private readonly byDevice = new Map<string, SeriesInfo[]>();
  /** device id → metric → series: the per-point lookup of every write, without building a key string */
  private readonly deviceMetric = new Map<string, Map<string, SeriesInfo>>();
  private readonly highWater = new Map<number, number>();
  private readonly insertSeries: Database.Statement;
  private readonly moveDevice: Database.Statement;
  private readonly maxTs: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.insertSeries = db.prepare(
      'INSERT INTO series (scope, key, metric, district, kind) VALUES (?, ?, ?, ?, ?)',
    );
    this.moveDevice = db.prepare('UPDATE series SET district = ? WHERE id = ?');
    this.maxTs = db.prepare('SELECT MAX(ts) FROM points WHERE series_id = ?').pluck();
    this.load();
  }

  find(scope: ScopeName, key: string, metric: string): SeriesInfo | undefined {
    return this.byKey.get(k(scope, key, metric));
  }

  device(deviceId: string, metric: string): SeriesInfo | undefined {
    return this.deviceMetric.get(deviceId)?.get(metric);
  }

  ofDevice(deviceId: string): readonly SeriesInfo[] {
    return this.byDevice.get(deviceId) ?? [];
  }

  info(id: number): SeriesInfo | undefined {
    return this.byId.get(id);
  }

  /** Device series ids rolling up into a district or city series. */
  membersOf(groupId: number): Iterable<number> {
    return this.members.get(groupId) ?? [];
  }

  all(): Iterable<SeriesInfo> {
    return this.byId.values();
  }

  /**
   * Creates the series the points need and follows devices that report a new district (the mapping is
   * what recomputations use; buckets already written stay with the district they were written to).
   * Runs in its own short transaction so the in-memory mirror never holds an id that was rolled back.
   */
  ensure(points: readonly SeriesPoint[]): boolean {
    let pending: SeriesPoint[] | undefined;
    for (const p of points) {
      const s = this.device(p.deviceId, p.metric);
      if (s !== undefined && s.district === p.district) continue;
      pending ??= [];
      pending.push(p);
    }
    if (pending === undefined) return false;
    const work = pending;
    try {
      this.db.transaction(() => {
        for (const p of work) this.ensureOne(p);
      })();
    } catch (err) {
      this.load(); // the transaction rolled back: drop what the mirror learnt inside it
      throw err;
    }
    return true;
  }

  /** Re-reads the series table (written by another connection). High-water marks are kept: upper bounds. */
  reload(): void {
    this.load();
  }

  highWaterOf(id: number): number {
    let hw = this.highWater.get(id);
    if (hw === undefined) {
      const max = this.maxTs.get(id) as number | null;
      hw = max ?? Number.NEGATIVE_INFINITY;
      this.highWater.set(id, hw);
    }
    return hw;
  }

  raiseHighWater(id: number, ts: number): void {
    if (ts > (this.highWater.get(id) ?? Number.NEGATIVE_INFINITY)) this.highWater.set(id, ts);
  }

  private load(): void {
    this.byKey.clear();
    this.byId.clear();
    this.members.clear();
    this.byDevice.clear();
    this.deviceMetric.clear();
    const rows = this.db
      .prepare('SELECT id, scope, key, metric, district FROM series ORDER BY id')
      .all() as SeriesRow[];
    // Groups first, so device rows can link to them.
    for (const r of rows) if (r.scope !== 'device') this.remember({ ...r, districtId: 0, cityId: 0 });
    for (const r of rows) if (r.scope === 'device') this.linkDevice({ ...r, districtId: 0, cityId: 0 });
  }

  private ensureOne(p: SeriesPoint): void {
    const existing = this.device(p.deviceId, p.metric);
    if (existing !== undefined && existing.district === p.district) return;
    const districtId = this.group('district', p.district, p.metric);
    const cityId = this.group('city', CITY_KEY, p.metric);
    if (existing === undefined) {
      const id = Number(
        this.insertSeries.run('device', p.deviceId, p.metric, p.district, p.kind).lastInsertRowid,
      );
      this.linkDevice({
        id,
        scope: 'device',
        key: p.deviceId,
        metric: p.metric,
        district: p.district,
        districtId,
        cityId,
      });
      return;
    }
    this.moveDevice.run(p.district, existing.id);
    this.members.get(existing.districtId)?.delete(existing.id);
    existing.district = p.district;
    existing.districtId = districtId;
    this.addMember(districtId, existing.id);
  }

  private group(scope: 'district' | 'city', key: string, metric: string): number {
    const found = this.find(scope, key, metric);
    if (found !== undefined) return found.id;
    const id = Number(this.insertSeries.run(scope, key, metric, null, null).lastInsertRowid);
    this.remember({ id, scope, key, metric, district: null, districtId: 0, cityId: 0 });
    return id;
  }

  private remember(s: SeriesInfo): void {
    this.byKey.set(k(s.scope, s.key, s.metric), s);
    this.byId.set(s.id, s);
  }

  private linkDevice(s: SeriesInfo): void {
    if (s.districtId === 0) {
      s.districtId = this.find('district', s.district ?? '', s.metric)?.id ?? 0;
      s.cityId = this.find('city', CITY_KEY, s.metric)?.id ?? 0;
    }
    this.remember(s);
    const list = this.byDevice.get(s.key);
    if (list === undefined) this.byDevice.set(s.key, [s]);
    else list.push(s);
    const metrics = this.deviceMetric.get(s.key);
    if (metrics === undefined) this.deviceMetric.set(s.key, new Map([[s.metric, s]]));
    else metrics.set(s.metric, s);
    this.addMember(s.districtId, s.id);
    this.addMember(s.cityId, s.id);
  }

  private addMember(groupId: number, deviceSeriesId: number): void {
    let set = this.members.get(groupId);
    if (set === undefined) {
      set = new Set();
      this.members.set(groupId, set);
    }
    set.add(deviceSeriesId);
  }
}
