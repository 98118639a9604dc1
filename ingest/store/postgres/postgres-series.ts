import type pg from 'pg';
import type { SeriesPoint } from '../../../core/ports/series-store.ts';
import { CITY_KEY, type ScopeName } from '../series-registry.ts';

/** A device series and the district and city series its points roll up into. */
export interface DeviceSeries {
  id: number;
  deviceId: string;
  metric: string;
  district: string;
  districtId: number;
  cityId: number;
}

interface Row {
  id: number;
  scope: ScopeName;
  key: string;
  metric: string;
  district: string | null;
}

const groupKey = (scope: ScopeName, key: string, metric: string): string =>
  `${scope}\u0000${key}\u0000${metric}`;

/**
 * The series ids this process writes to, learnt from the series table as points need them: bounded by
 * devices x metrics plus districts x metrics. Reads never use it (they join the series table), so series
 * created by another node are visible to queries at once.
 */
export class PgSeriesCache {
  private readonly devices = new Map<string, Map<string, DeviceSeries>>();
  private readonly groups = new Map<string, number>();

  device(deviceId: string, metric: string): DeviceSeries | undefined {
    return this.devices.get(deviceId)?.get(metric);
  }

  /**
   * Creates (or finds) the series the points need, and records a device's new district, in one upsert.
   * Buckets written while the device was in a former district stay with that district; new points go to the district they carry.
   */
  async ensure(db: pg.ClientBase, points: readonly SeriesPoint[]): Promise<void> {
    const rows = new Map<string, [ScopeName, string, string, string | null, string | null]>();
    for (const p of points) {
      const known = this.device(p.deviceId, p.metric);
      if (known !== undefined && known.district === p.district) continue;
      rows.set(groupKey('device', p.deviceId, p.metric), [
        'device',
        p.deviceId,
        p.metric,
        p.district,
        p.kind,
      ]);
      const district = groupKey('district', p.district, p.metric);
      if (!this.groups.has(district)) rows.set(district, ['district', p.district, p.metric, null, null]);
      const city = groupKey('city', CITY_KEY, p.metric);
      if (!this.groups.has(city)) rows.set(city, ['city', CITY_KEY, p.metric, null, null]);
    }
    if (rows.size === 0) return;
    const columns: Array<Array<string | null>> = [[], [], [], [], []];
    for (const row of rows.values()) for (let i = 0; i < row.length; i++) columns[i]!.push(row[i] ?? null);
    // Groups before devices in the answer, so a device links to ids known by then.
    const { rows: found } = await db.query<Row>(
      `INSERT INTO series (scope, key, metric, district, kind)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
       ON CONFLICT (scope, key, metric) DO UPDATE SET district = excluded.district
       RETURNING id, scope, key, metric, district`,
      columns,
    );
    for (const r of found)
      if (r.scope !== 'device') this.groups.set(groupKey(r.scope, r.key, r.metric), r.id);
    for (const r of found) {
      if (r.scope !== 'device') continue;
      const district = r.district ?? '';
      const s: DeviceSeries = {
        id: r.id,
        deviceId: r.key,
        metric: r.metric,
        district,
        districtId: this.groups.get(groupKey('district', district, r.metric))!,
        cityId: this.groups.get(groupKey('city', CITY_KEY, r.metric))!,
      };
      let metrics = this.devices.get(r.key);
      if (metrics === undefined) {
        metrics = new Map();
        this.devices.set(r.key, metrics);
      }
      metrics.set(r.metric, s);
    }
  }

  /** Forgets everything: after a failed write, nothing learnt inside it may be trusted. */
  clear(): void {
    this.devices.clear();
    this.groups.clear();
  }
}
