// @ts-check
// The page's live state, fed by the socket. Pushes arrive already coalesced by the server (latest wins);
// here every change only marks a topic dirty, and the visible view redraws once per animation frame, so a
// busy city costs one render per frame at most, and a hidden tab none at all.

import { ApiError, api } from './api.js';

/** @typedef {import('../../live/live-events.ts').HelloPush} HelloPush */
/** @typedef {import('../../live/live-events.ts').LatestItem} LatestItem */
/** @typedef {import('../../live/live-events.ts').IngestStatsView} IngestStats */
/** @typedef {import('../../live/live-events.ts').AlertPush['items'][number]} Alert */
/**
 * An alert as the page holds it: pushed alerts carry epoch ms, the API's list ISO strings.
 * @typedef {Omit<Alert, 'openedAt' | 'lastOpenedAt' | 'acknowledgedAt' | 'clearedAt'> & {
 *   openedAt: number | string, lastOpenedAt?: number | string | null,
 *   acknowledgedAt: number | string | null, clearedAt: number | string | null }} AlertItem
 */
/**
 * A kind as GET /api/device-kinds lists it.
 * @typedef {{ name: string, unit: string, description: string, min: number, max: number,
 *   aggregation?: string }} MetricSpec
 * @typedef {{ type: 'number' | 'string' | 'boolean', description: string, unit?: string,
 *   required?: boolean }} AttributeSpec
 * @typedef {{ id: string, name: string, intervalSec?: number, metrics: MetricSpec[],
 *   attributes?: Record<string, AttributeSpec> }} Kind
 */
/**
 * A device as GET /api/devices lists it, with its last reading time (epoch ms) kept current by pushes.
 * @typedef {{ id: string, name: string, kind: string, district: string, online: boolean,
 *   location: { lat: number, lon: number } | null, lastSeen: number | null, lastSeenAt?: string | null,
 *   status?: string, attributes?: Record<string, unknown> }} Device
 */
/** @typedef {{ window: Array<[number, number]>, refused: Record<string, number> }} Activity */
/**
 * @typedef {object} LiveState
 * @property {HelloPush | null} hello
 * @property {Map<string, Kind>} kinds id → kind
 * @property {Map<string, Device>} devices id → device
 * @property {Map<string, Map<string, { value: number, ts: number, unit: string | null }>>} latest
 *   deviceId → metric → latest value
 * @property {IngestStats | null} stats
 * @property {{ t: number[], accepted: Array<number | null>, refused: Array<number | null> }} history
 * @property {Record<string, number>} refusedRecent
 * @property {Map<string, Activity>} activity deviceId → readings and refusals of the last minute
 * @property {Map<string, AlertItem>} alerts active ones, and those cleared while the page is open
 * @property {Map<string, any>} kpis code → KPI item of GET /api/kpis
 * @property {boolean | null} kpiAvailable null unknown, false: no KPI engine in this deployment
 * @property {import('./kpi-tiles.js').TileLayout | null} tileLayout the signed-in role's overview tiles
 *   (GET /api/tile-layouts/{role}), null until loaded
 */

const HISTORY = 300; // seconds of ingest history kept for the rate chart
const MAX_DEVICES = 5000; // loaded for the map; the devices view pages through the API for more

/** @type {LiveState} */
export const state = {
  hello: null,
  kinds: new Map(), // id → kind
  devices: new Map(), // id → device (as the API lists it)
  latest: new Map(), // deviceId → Map(metric → { value, ts, unit })
  stats: null,
  history: { t: [], accepted: [], refused: [] },
  refusedRecent: {},
  activity: new Map(), // deviceId → { window: [[at, readings]], refused: { code: n } }
  alerts: new Map(), // id → alert (active ones, and those cleared while the page is open)
  kpis: new Map(), // code → KPI item of GET /api/kpis
  kpiAvailable: null, // null unknown, false: no KPI engine in this deployment
  tileLayout: null,
};

/** @type {Set<string>} */
const dirty = new Set();
/** @type {Set<(topics: Set<string>) => void>} */
const listeners = new Set();
let scheduled = false;

/** @param {string} topic */
export function markDirty(topic) {
  dirty.add(topic);
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => {
    scheduled = false;
    const topics = new Set(dirty);
    dirty.clear();
    for (const fn of listeners) fn(topics);
  });
}
/** @param {(topics: Set<string>) => void} fn */
export const onDirty = (fn) => {
  listeners.add(fn);
  return () => listeners.delete(fn);
};

export async function loadDevices() {
  const kinds = await api('/api/device-kinds');
  for (const kind of kinds.items) state.kinds.set(kind.id, kind);
  for (let offset = 0; offset < MAX_DEVICES; offset += 1000) {
    const page = await api(`/api/devices?limit=1000&offset=${offset}`);
    for (const d of page.items)
      state.devices.set(d.id, { ...d, lastSeen: d.lastSeenAt ? Date.parse(d.lastSeenAt) : null });
    if (offset + page.items.length >= page.total) break;
  }
  markDirty('devices');
}

export async function loadAlerts() {
  const res = await api('/api/alerts?state=active&limit=500');
  state.alerts.clear();
  for (const a of res.items) state.alerts.set(a.id, a);
  markDirty('alerts');
}

export async function loadKpis() {
  try {
    const res = await api('/api/kpis');
    state.kpiAvailable = true;
    state.kpis.clear();
    for (const k of res.items) state.kpis.set(k.code, k);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404 && err.code === 'API_NOT_FOUND')
      state.kpiAvailable = false;
    else throw err;
  }
  markDirty('kpis');
}

/** @param {string} id @param {string | null} kind @param {string | null} district */
function ensureDevice(id, kind, district) {
  let device = state.devices.get(id);
  if (!device) {
    device = {
      id,
      name: id,
      kind: kind || 'unknown',
      district: district || 'unknown',
      online: true,
      location: null,
      lastSeen: null,
    };
    state.devices.set(id, device);
  }
  return device;
}

/** @param {LatestItem[]} items */
function applyLatest(items) {
  for (const item of items) {
    const device = ensureDevice(item.deviceId, item.kind, item.district);
    if (!device.lastSeen || device.lastSeen < item.ts) device.lastSeen = item.ts;
    let metrics = state.latest.get(item.deviceId);
    if (!metrics) {
      metrics = new Map();
      state.latest.set(item.deviceId, metrics);
    }
    const current = metrics.get(item.metric);
    if (!current || current.ts <= item.ts)
      metrics.set(item.metric, { value: item.value, ts: item.ts, unit: item.unit });
  }
  markDirty('latest');
}

/** Readings per minute of a device over the last minute of pushes. @param {string} deviceId @param {number} [now] */
export function readingRate(deviceId, now = Date.now()) {
  const a = state.activity.get(deviceId);
  if (!a) return null;
  let n = 0;
  for (const [at, readings] of a.window) if (now - at <= 60_000) n += readings;
  return n;
}

/** @type {Set<(items: LatestItem[]) => void>} */
const seriesListeners = new Set();
/**
 * Raw latest items as they arrive, for the series chart (which needs every push, not one per frame).
 * @param {(items: LatestItem[]) => void} fn
 */
export const onLatest = (fn) => {
  seriesListeners.add(fn);
  return () => seriesListeners.delete(fn);
};

/**
 * @typedef {object} ConnectHandlers
 * @property {(text: string, cls: string) => void} connection the connection badge
 * @property {(message: string) => void} signOut
 * @property {(hello: HelloPush) => void} hello
 * @property {(what: string, err: unknown) => void} failed a request the page made by itself failed
 * @property {(what: string) => void} recovered the same request succeeded since
 */

/** @param {string} token @param {ConnectHandlers} handlers */
export function connect(token, handlers) {
  // The socket.io client is served by this server at /socket.io/socket.io.js (a classic script: global io).
  const socket = window.io({ path: '/socket.io', auth: { token } });
  let revoked = false;
  socket.on('connect', () => handlers.connection('live', 'live'));
  socket.on('revoked', () => {
    revoked = true;
    handlers.signOut('This API key was revoked.');
  });
  socket.on('disconnect', (reason) => {
    if (revoked) return;
    handlers.connection('reconnecting…', 'down');
    // socket.io retries by itself except when the server closed the session (a restart): retry then too.
    if (reason === 'io server disconnect') setTimeout(() => socket.connect(), 2000);
  });
  socket.on('connect_error', (err) => {
    const code = err?.data?.code;
    if (code === 'API_UNAUTHENTICATED') return handlers.signOut('That key was not accepted.');
    if (code === 'API_RATE_LIMITED')
      return handlers.signOut('Too many failed sign-ins from this address; try again later.');
    handlers.connection('offline, retrying…', 'down');
  });
  socket.on('hello', (hello) => {
    state.hello = hello;
    handlers.hello(hello);
  });
  socket.on('snapshot', (msg) => {
    state.latest.clear();
    applyLatest(msg.items);
    // After a reconnect or falling behind, alerts pushed meanwhile may have been missed: reload them.
    loadAlerts().then(
      () => handlers.recovered('alerts'),
      (err) => handlers.failed('alerts', err),
    );
  });
  socket.on('latest', (msg) => {
    applyLatest(msg.items);
    for (const fn of seriesListeners) fn(msg.items);
  });
  socket.on('device-status', (msg) => {
    for (const s of msg.items) ensureDevice(s.deviceId, s.kind, s.district).online = s.online;
    markDirty('devices');
  });
  socket.on('device-activity', (msg) => {
    const now = Date.now();
    for (const item of msg.items) {
      let a = state.activity.get(item.deviceId);
      if (!a) {
        a = { window: [], refused: {} };
        state.activity.set(item.deviceId, a);
      }
      a.window.push([now, item.readings]);
      while (a.window.length > 0 && now - a.window[0][0] > 60_000) a.window.shift();
      for (const [code, n] of Object.entries(item.refused)) a.refused[code] = (a.refused[code] || 0) + n;
    }
    markDirty('activity');
  });
  socket.on('refused', (msg) => {
    state.refusedRecent = msg.byReason || {};
    markDirty('stats');
  });
  socket.on('stats', (stats) => {
    state.stats = stats;
    const h = state.history;
    h.t.push(Date.now() / 1000);
    h.accepted.push(stats.rates?.acceptedPerSec ?? null);
    h.refused.push(stats.rates?.refusedPerSec ?? null);
    if (h.t.length > HISTORY) {
      h.t.shift();
      h.accepted.shift();
      h.refused.shift();
    }
    markDirty('stats');
  });
  socket.on('alert', (msg) => {
    for (const a of msg.items) state.alerts.set(a.id, a);
    markDirty('alerts');
  });
  socket.on('kpi', (k) => {
    const item = state.kpis.get(k.code);
    if (!item) return;
    item.current = { ...item.current, [k.periodKind]: k.value };
    if (k.periodKind === 'month-to-date' && k.score !== undefined) item.score = k.score;
    markDirty('kpis');
  });
  socket.on('kpi-revised', () => markDirty('kpi-revised'));
  return socket;
}
