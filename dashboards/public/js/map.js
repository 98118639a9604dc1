// @ts-check
// The district map: Leaflet on a plain background (CRS.Simple), no tile server, so it works offline and on
// an intranet. Device positions are projected to kilometres around the city's centre; each district is drawn
// as the padded convex hull of its devices. When most devices have no location, districts are laid out as a
// schematic grid instead.

import * as L from '/vendor/leaflet/leaflet-src.esm.js';
import { state } from './live.js';

/** @typedef {import('./live.js').Device} Device */
/** @typedef {[number, number]} Point [y, x] in km */
/** @typedef {'ok' | 'stale' | 'offline' | 'never' | 'alert'} DeviceState */

const PALETTE = ['#4cc9f0', '#f4a261', '#90be6d', '#c77dff', '#f9c74f', '#43aa8b', '#f28482', '#84a59d'];
/** @type {Record<DeviceState, string>} */
export const STATE_COLOURS = {
  ok: '#3ddc84',
  stale: '#ffb020',
  offline: '#ff4d5e',
  never: '#7c8799',
  alert: '#ff2bd6',
};

/**
 * ok | stale | offline | never, from connection, last reading and the kind's interval.
 * @param {Device} device
 * @param {number} [now]
 * @returns {DeviceState}
 */
export function deviceState(device, now = Date.now()) {
  if (!device.online && device.lastSeen === null) return 'never';
  if (!device.online) return 'offline';
  if (device.lastSeen === null) return 'never';
  const interval = (state.kinds.get(device.kind)?.intervalSec ?? 60) * 1000;
  // The live page may run faster than the kind's interval (simulations): three intervals, at least 2 min.
  return now - device.lastSeen > Math.max(3 * interval, 120_000) ? 'stale' : 'ok';
}

/** Convex hull (Andrew's monotone chain). @param {Point[]} points @returns {Point[]} */
function hull(points) {
  const p = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (p.length < 3) return p;
  /** @param {Point} o @param {Point} a @param {Point} b */
  const cross = (o, a, b) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  /** @param {Point[]} chain @param {Point} q whether the chain's last two points and q turn clockwise */
  const bends = (chain, q) => {
    const a = chain[chain.length - 2];
    const b = chain[chain.length - 1];
    return a !== undefined && b !== undefined && cross(a, b, q) <= 0;
  };
  /** @type {Point[]} */
  const lower = [];
  for (const q of p) {
    while (bends(lower, q)) lower.pop();
    lower.push(q);
  }
  /** @type {Point[]} */
  const upper = [];
  for (const q of p.reverse()) {
    while (bends(upper, q)) upper.pop();
    upper.push(q);
  }
  return lower.slice(0, -1).concat(upper.slice(0, -1));
}

/** @param {Point[]} points @returns {Point} */
function centroid(points) {
  const n = points.length || 1;
  return [points.reduce((s, p) => s + p[0], 0) / n, points.reduce((s, p) => s + p[1], 0) / n];
}

/**
 * Positions [y, x] in km per device id, and the layout mode.
 * @param {Device[]} devices
 * @returns {{ pos: Map<string, Point>, mode: 'geographic' | 'schematic', unlocated: number }}
 */
function layout(devices) {
  /** @type {Array<{ id: string, lat: number, lon: number }>} */
  const located = devices.flatMap((d) => (d.location ? [{ id: d.id, ...d.location }] : []));
  /** @type {Map<string, Point>} */
  const pos = new Map();
  if (located.length >= devices.length / 2 && located.length > 0) {
    const lat0 = located.reduce((s, d) => s + d.lat, 0) / located.length;
    const lon0 = located.reduce((s, d) => s + d.lon, 0) / located.length;
    const kx = 111.32 * Math.cos((lat0 * Math.PI) / 180);
    for (const d of located) pos.set(d.id, [(d.lat - lat0) * 110.57, (d.lon - lon0) * kx]);
    return { pos, mode: 'geographic', unlocated: devices.length - located.length };
  }
  const districts = [...new Set(devices.map((d) => d.district))].sort();
  const cols = Math.ceil(Math.sqrt(districts.length));
  const cell = 10;
  districts.forEach((name, i) => {
    const members = devices.filter((d) => d.district === name);
    const sub = Math.ceil(Math.sqrt(members.length));
    const step = (cell * 0.8) / Math.max(sub, 1);
    members.forEach((d, j) => {
      const y = -Math.floor(i / cols) * cell - 1 - Math.floor(j / sub) * step;
      const x = (i % cols) * cell + 1 + (j % sub) * step;
      pos.set(d.id, [y, x]);
    });
  });
  return { pos, mode: 'schematic', unlocated: 0 };
}

/**
 * `only`: the ids of the devices to draw (a KPI's lineage); every device of the city when absent.
 * @param {HTMLElement} container
 * @param {{ onDeviceClick?: (device: Device) => void, only?: Set<string> }} [options]
 */
export function createDistrictMap(container, { onDeviceClick, only } = {}) {
  const shown = () => {
    const all = [...state.devices.values()];
    return only ? all.filter((d) => only.has(d.id)) : all;
  };
  const map = L.map(container, {
    crs: L.CRS.Simple,
    preferCanvas: true, // thousands of markers: one canvas, not thousands of SVG nodes
    zoomSnap: 0.25,
    minZoom: -4,
    maxZoom: 8,
    attributionControl: false,
    zoomControl: true,
  });
  const districtLayer = L.layerGroup().addTo(map);
  const deviceLayer = L.layerGroup().addTo(map);
  /** @type {Map<string, L.CircleMarker>} */
  const markers = new Map();
  let layoutKey = '';
  /** @type {L.LatLngBounds | null} */
  let bounds = null;
  /** @type {{ mode: 'geographic' | 'schematic', unlocated: number }} */
  let info = { mode: 'geographic', unlocated: 0 };

  function relayout() {
    const devices = shown();
    const { pos, mode, unlocated } = layout(devices);
    info = { mode, unlocated };
    districtLayer.clearLayers();
    deviceLayer.clearLayers();
    markers.clear();
    /** @type {Map<string, Point[]>} */
    const byDistrict = new Map();
    for (const d of devices) {
      const p = pos.get(d.id);
      if (!p) continue;
      const points = byDistrict.get(d.district);
      if (points) points.push(p);
      else byDistrict.set(d.district, [p]);
    }
    [...byDistrict.keys()].sort().forEach((name, i) => {
      const points = byDistrict.get(name) ?? [];
      const colour = PALETTE[i % PALETTE.length];
      const c = centroid(points);
      const pad = mode === 'schematic' ? 0.6 : 0.35;
      const ring = hull(points).map(([y, x]) => {
        const dy = y - c[0];
        const dx = x - c[1];
        const len = Math.hypot(dx, dy) || 1;
        return /** @type {Point} */ ([y + (dy / len) * pad, x + (dx / len) * pad]);
      });
      const shape =
        ring.length >= 3
          ? L.polygon(ring, {
              color: colour,
              weight: 2,
              fillColor: colour,
              fillOpacity: 0.1,
              interactive: false,
            })
          : L.circle(c, { radius: 0.6, color: colour, weight: 2, fillOpacity: 0.1, interactive: false });
      shape.addTo(districtLayer);
      L.tooltip({ permanent: true, direction: 'center', className: 'district-label', interactive: false })
        .setLatLng(c)
        .setContent(escapeText(name))
        .addTo(districtLayer);
    });
    for (const d of devices) {
      const p = pos.get(d.id);
      if (!p) continue;
      const marker = L.circleMarker(p, { radius: 5, weight: 1.5, color: '#0b1020', fillOpacity: 0.95 });
      marker.bindTooltip(() => tooltipFor(d));
      if (onDeviceClick) marker.on('click', () => onDeviceClick(d));
      marker.addTo(deviceLayer);
      markers.set(d.id, marker);
    }
    const all = [...pos.values()];
    bounds = all.length > 0 ? L.latLngBounds(all).pad(0.08) : null;
    if (bounds) map.fitBounds(bounds, { animate: false });
    else map.setView([0, 0], 0);
  }

  /** @param {Set<string>} alertSubjects device ids with an active alert */
  function update(alertSubjects) {
    const key = `${state.devices.size}|${only?.size ?? ''}`;
    if (key !== layoutKey) {
      layoutKey = key;
      relayout();
    }
    const now = Date.now();
    for (const [id, marker] of markers) {
      const d = state.devices.get(id);
      if (!d) continue;
      const s = alertSubjects.has(id) ? 'alert' : deviceState(d, now);
      const colour = STATE_COLOURS[s];
      if (marker.options.fillColor !== colour)
        marker.setStyle({ fillColor: colour, radius: s === 'alert' ? 8 : 5 });
    }
    container.dataset.devices = String(markers.size);
    return info;
  }

  return {
    update,
    // After a resize (a wall display rotated, a tablet): the whole city fits again. Without animation: a
    // view left mid-zoom would remove the map under Leaflet's pending transition.
    invalidate() {
      map.invalidateSize();
      if (bounds) map.fitBounds(bounds, { animate: false });
    },
    destroy: () => map.remove(),
  };
}

/** @param {Device} d */
function tooltipFor(d) {
  const latest = state.latest.get(d.id);
  const values = latest
    ? [...latest]
        .slice(0, 6)
        .map(([m, v]) => `${m} ${Math.round(v.value * 10) / 10}${v.unit ? ` ${v.unit}` : ''}`)
    : [];
  const div = document.createElement('div');
  const title = document.createElement('strong');
  title.textContent = d.name;
  div.append(title, document.createElement('br'), `${d.kind} · ${d.district} · ${deviceState(d)}`);
  for (const v of values) div.append(document.createElement('br'), v);
  return div;
}

/** Leaflet's setContent takes HTML strings: district names are escaped into a text node first. */
/** @param {string} text */
function escapeText(text) {
  const span = document.createElement('span');
  span.textContent = text;
  return span;
}
