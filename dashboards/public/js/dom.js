// DOM and formatting helpers. Every piece of data reaches the page through text nodes, never innerHTML:
// device names, districts and rule names are typed by people and must not become markup.

export const $ = (id) => document.getElementById(id);

export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') node.className = value;
    else if (name.startsWith('on') && typeof value === 'function')
      node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  append(node, children);
  return node;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
export function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value !== undefined && value !== null) node.setAttribute(name, String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export const number = (v, digits = 1) =>
  typeof v === 'number' && Number.isFinite(v)
    ? v.toLocaleString('en-GB', { maximumFractionDigits: digits })
    : '–';

/** 1234 → "1.2k": for counters on a wall. */
export const compact = (v) =>
  typeof v === 'number' && Number.isFinite(v)
    ? v.toLocaleString('en-GB', { notation: 'compact', maximumFractionDigits: 1 })
    : '–';

export function relativeTime(ms, now = Date.now()) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return 'never';
  const s = Math.round((now - ms) / 1000);
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

let zone;
export const setTimezone = (tz) => {
  zone = tz;
};
/** The city's IANA zone (told by the server on connect); UTC until then. */
export const cityZone = () => zone || 'UTC';
export function clockTime(ms, withSeconds = true) {
  const opts = {
    hour: '2-digit',
    minute: '2-digit',
    ...(withSeconds ? { second: '2-digit' } : {}),
    hour12: false,
  };
  try {
    return new Date(ms).toLocaleTimeString('en-GB', { ...opts, timeZone: zone });
  } catch {
    return new Date(ms).toLocaleTimeString('en-GB', opts);
  }
}
export function dateTime(ms) {
  try {
    return new Date(ms).toLocaleString('en-GB', { timeZone: zone, dateStyle: 'medium', timeStyle: 'short' });
  } catch {
    return new Date(ms).toLocaleString('en-GB');
  }
}

/** Band 1..4 (U4SSC score points) → CSS class. */
/** A KPI status as the server gave it (final, provisional, no-data-expected): the page never derives one. */
const STATUS_TEXT = { final: 'final', provisional: 'provisional', 'no-data-expected': 'no data expected' };
export const statusText = (status) => STATUS_TEXT[status] ?? String(status ?? '');
export const statusClass = (status) =>
  `chip chip-${status === 'final' ? 'final' : status === 'no-data-expected' ? 'none' : 'provisional'}`;

export const bandClass = (points) => (points >= 1 && points <= 4 ? `band-${points}` : 'band-none');

export function emptyState(text) {
  return el('p', { class: 'empty' }, text);
}
