// @ts-check
// What the series view can draw: the metrics of a scope, the devices, districts or kinds reporting one,
// and live values folded into the lines drawn.

import { state } from '../live.js';

/** @typedef {import('../../../live/live-events.ts').LatestItem} LatestItem */
/** @typedef {{ scope: 'device' | 'district' | 'city', metric: string, keys: string[], kind: string }} Scope */
/**
 * One line of the chart: the API's buckets of one device, district or city kind (times in seconds).
 * @typedef {{ key: string, name: string, t: number[], mean: number[], min: number[], max: number[],
 *   count: number[] }} Line
 */
/** @typedef {{ name: string, unit: string, description: string }} MetricSpec */

/** Kinds with at least one device on the page. */
const presentKinds = () => new Set([...state.devices.values()].map((d) => d.kind));

/** @param {string} kindId @param {string} metric */
const reports = (kindId, metric) =>
  (state.kinds.get(kindId)?.metrics ?? []).some((/** @type {MetricSpec} */ m) => m.name === metric);

/**
 * Metrics reported in a scope (for devices asked for by id, those of their kinds first).
 * @param {string} scope
 * @param {string[]} wanted device ids from the URL
 * @returns {Map<string, MetricSpec>}
 */
export function metricsOf(scope, wanted) {
  const ids = scope === 'device' ? wanted.map((id) => state.devices.get(id)?.kind).filter(Boolean) : [];
  /** @type {Map<string, MetricSpec>} */
  const out = new Map();
  for (const id of [...ids, ...presentKinds()])
    for (const m of state.kinds.get(id ?? '')?.metrics ?? []) if (!out.has(m.name)) out.set(m.name, m);
  return out;
}

/**
 * What may be compared for a metric: [value, label] of devices (by name), districts, or city kinds.
 * @param {string} scope
 * @param {string} metric
 * @returns {Array<[string, string]>}
 */
export function keyOptions(scope, metric) {
  const devices = [...state.devices.values()].filter((d) => reports(d.kind, metric));
  if (scope === 'city')
    return [...new Set(devices.map((d) => d.kind))].sort().map((k) => [k, state.kinds.get(k)?.name ?? k]);
  if (scope === 'district') return [...new Set(devices.map((d) => d.district))].sort().map((d) => [d, d]);
  return devices
    .sort((a, b) => a.name.localeCompare(b.name))
    .slice(0, 2000)
    .map((d) => [d.id, `${d.name} (${d.id})`]);
}

/**
 * Kinds reporting a metric in districts, when they mean different things by it (then one must be chosen);
 * empty when one mean over them is sound.
 * @param {string} metric
 * @param {Array<string | undefined>} districts
 * @returns {string[]}
 */
export function kindsFor(metric, districts) {
  const kinds = [
    ...new Set(
      [...state.devices.values()]
        .filter((d) => districts.includes(d.district) && reports(d.kind, metric))
        .map((d) => d.kind),
    ),
  ].sort();
  const meanings = new Set(
    kinds.map((k) => {
      const m = state.kinds.get(k)?.metrics.find((/** @type {MetricSpec} */ x) => x.name === metric);
      return `${m?.unit}\u0000${m?.description}`;
    }),
  );
  return meanings.size > 1 ? kinds : [];
}

/** @param {Scope} s @param {LatestItem} item @param {string} key */
function belongs(s, item, key) {
  if (item.metric !== s.metric) return false;
  if (s.scope === 'city') return item.kind === key;
  if (s.scope === 'district') return item.district === key && (!s.kind || item.kind === s.kind);
  return item.deviceId === key;
}

/**
 * Folds live values into the lines. Bucket starts are the city's calendar (the API's), so a value joins
 * the last bucket when it falls within one step of it and opens a new one otherwise; a value older than
 * the last bucket is left to the next load. Answers whether anything changed.
 * @param {Line[]} lines
 * @param {Scope} s
 * @param {LatestItem[]} items
 * @param {number} stepS
 */
export function foldLive(lines, s, items, stepS) {
  let changed = false;
  for (const item of items) {
    for (const line of lines) {
      if (!belongs(s, item, line.key)) continue;
      const t = item.ts / 1000;
      const n = line.t.length;
      const lastT = n > 0 ? (line.t[n - 1] ?? null) : null;
      if (lastT !== null && t >= lastT && t < lastT + stepS) {
        const c = line.count[n - 1] ?? 0;
        line.mean[n - 1] = ((line.mean[n - 1] ?? 0) * c + item.value) / (c + 1);
        line.min[n - 1] = Math.min(line.min[n - 1] ?? item.value, item.value);
        line.max[n - 1] = Math.max(line.max[n - 1] ?? item.value, item.value);
        line.count[n - 1] = c + 1;
      } else if (lastT === null || t >= lastT + stepS) {
        const start =
          lastT === null ? Math.floor(t / stepS) * stepS : lastT + Math.floor((t - lastT) / stepS) * stepS;
        line.t.push(start);
        line.mean.push(item.value);
        line.min.push(item.value);
        line.max.push(item.value);
        line.count.push(1);
      } else continue;
      changed = true;
    }
  }
  return changed;
}
