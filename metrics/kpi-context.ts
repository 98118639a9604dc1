import type { CityCalendar } from '../core/city-calendar.ts';
import type { DeviceKind } from '../core/device-kind.ts';
import type { DeviceRecord } from '../core/ports/device-directory.ts';
import type { Bucket, SeriesQuery, SeriesStore } from '../core/ports/series-store.ts';
import type { CityProfile } from './city-profile.ts';
import type { FormulaContext, FormulaEvent, KpiSettings } from './kpi-types.ts';
import type { ManualInputs } from './manual-inputs.ts';

/** What the engine reads devices and events from (the registry and the ingest service, structurally). */
export interface DeviceSource {
  list(filter: { limit: number; offset: number }): { items: DeviceRecord[]; total: number };
  /** Every device at once (sorted by id), when the source can: paging a big city costs O(n²/page). */
  all?(): DeviceRecord[];
  get(id: string): DeviceRecord | undefined;
  kind(kindId: string): DeviceKind | undefined;
  /** Called when a device's installed interval changed (the registry's): closed months are restated. */
  onLifeChanged?(
    listener: (change: {
      deviceId: string;
      kind: string;
      before: { installedAt: number; removedAt: number | null };
      after: { installedAt: number; removedAt: number | null };
    }) => void,
  ): () => void;
}

export interface EventSource {
  queryEvents(q: { deviceIds?: string[]; types?: string[]; from: number; to: number }): FormulaEvent[];
}

export interface ContextDeps {
  store: SeriesStore;
  calendar: CityCalendar;
  devices: DeviceSource;
  ingest: EventSource;
  profile: CityProfile;
  manual: ManualInputs;
  settings: KpiSettings;
}

/**
 * The FormulaContext of one recompute. A recompute runs many formulas over several periods that read the
 * same series (feeder energy feeds consumption, renewable share, SAIFI and CAIDI): aggregates and bucket
 * queries are memoised for the run, and the device list is read once. The memo lives only as long as the
 * run, so it never serves stale data to the next one.
 */
export function runContext(deps: ContextDeps, now: number): FormulaContext {
  const all: DeviceRecord[] = deps.devices.all?.() ?? [];
  if (deps.devices.all === undefined)
    for (let offset = 0; ; offset += 1000) {
      const page = deps.devices.list({ limit: 1000, offset });
      all.push(...page.items);
      if (page.items.length < 1000 || all.length >= page.total) break;
    }
  const byKind = new Map<string, DeviceRecord[]>();
  for (const d of all) {
    const list = byKind.get(d.kind) ?? [];
    list.push(d);
    byKind.set(d.kind, list);
  }
  return {
    store: memoStore(deps.store),
    calendar: deps.calendar,
    settings: deps.settings,
    now,
    devices: (filter = {}) => {
      const base = filter.kind === undefined ? all : (byKind.get(filter.kind) ?? []);
      return filter.district === undefined ? base : base.filter((d) => d.district === filter.district);
    },
    events: (q) => deps.ingest.queryEvents(q),
    profile: (name, at) => deps.profile.figure(name, at),
    manualInput: (name, period) => deps.manual.input(name, period),
    kind: (kindId) => deps.devices.kind(kindId),
  };
}

/**
 * A read-through memo of a store's aggregate and query calls; writes are not allowed through it. A device
 * aggregate is served from one grouped query of the metric over the range (aggregateByDevice) when the
 * store has it: formulas visit every device of a kind, and one query per device costs O(devices) round trips.
 */
function memoStore(store: SeriesStore): SeriesStore {
  const aggregates = new Map<string, Promise<Bucket | null>>();
  const byDevice = new Map<string, Promise<Map<string, Bucket>>>();
  const grouped = store.aggregateByDevice?.bind(store);
  const queries = new Map<string, Promise<Bucket[]>>();
  const scopeKey = (q: Omit<SeriesQuery, 'step'>): string =>
    `${'device' in q.scope ? `d:${q.scope.device}` : 'district' in q.scope ? `s:${q.scope.district}` : 'c'}|${q.metric}|${q.from}|${q.to}`;
  return {
    name: store.name,
    write: () => Promise.reject(new Error('the KPI engine does not write series')),
    aggregate(q) {
      if (grouped !== undefined && 'device' in q.scope) {
        const device = q.scope.device;
        const key = `${q.metric}|${q.from}|${q.to}`;
        let all = byDevice.get(key);
        if (all === undefined) {
          all = grouped({ metric: q.metric, from: q.from, to: q.to });
          byDevice.set(key, all);
        }
        return all.then((m) => m.get(device) ?? null);
      }
      const key = scopeKey(q);
      let hit = aggregates.get(key);
      if (hit === undefined) {
        hit = store.aggregate(q);
        aggregates.set(key, hit);
      }
      return hit;
    },
    query(q) {
      const key = `${scopeKey(q)}|${q.step}`;
      let hit = queries.get(key);
      if (hit === undefined) {
        hit = store.query(q);
        queries.set(key, hit);
      }
      return hit;
    },
    latest: (id) => store.latest(id),
    prune: (now) => store.prune(now),
    health: () => store.health(),
    close: () => Promise.resolve(),
  };
}
