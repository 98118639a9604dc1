// @ts-check
// DOM and formatting helpers. Every piece of data reaches the page through text nodes, never innerHTML:
// device names, districts and rule names are typed by people and must not become markup.

/**
 * An element of the page's static markup (index.html): it is there, so a missing one is a bug, thrown.
 * @param {string} id
 * @returns {HTMLElement}
 */
export const $ = (id) => {
  const node = document.getElementById(id);
  if (!node) throw new Error(`#${id} is not on the page`);
  return node;
};

/** @typedef {string | number | boolean | null | undefined | EventListener} AttrValue */
/** @typedef {Node | string | number | null | undefined | false} Child */
/** @typedef {Child | ReadonlyArray<Child | ReadonlyArray<Child>>} Children */

/**
 * An element with attributes (`class`, `on<event>` listeners, anything else as an attribute; true is a bare
 * attribute, false/null/undefined none) and children (nodes, or text).
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, AttrValue> | null} [attrs]
 * @param {...Children} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') node.className = String(value);
    else if (name.startsWith('on') && typeof value === 'function')
      node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  append(node, children);
  return node;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
/**
 * @template {keyof SVGElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, string | number | null | undefined> | null} [attrs]
 * @param {...Children} children
 * @returns {SVGElementTagNameMap[K]}
 */
export function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value !== undefined && value !== null) node.setAttribute(name, String(value));
  }
  append(node, children);
  return node;
}

/** @param {Element} node @param {Children[]} children */
function append(node, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** @param {unknown} v @param {number} [digits] */
export const number = (v, digits = 1) =>
  typeof v === 'number' && Number.isFinite(v)
    ? v.toLocaleString('en-GB', { maximumFractionDigits: digits })
    : '–';

/** 1234 → "1.2k": for counters on a wall. @param {unknown} v */
export const compact = (v) =>
  typeof v === 'number' && Number.isFinite(v)
    ? v.toLocaleString('en-GB', { notation: 'compact', maximumFractionDigits: 1 })
    : '–';

/** @param {number | null | undefined} ms @param {number} [now] */
export function relativeTime(ms, now = Date.now()) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return 'never';
  const s = Math.round((now - ms) / 1000);
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

/** @type {string | undefined} */
let zone;
export const setTimezone = (/** @type {string} */ tz) => {
  zone = tz;
};
/** The city's IANA zone (told by the server on connect); UTC until then. */
export const cityZone = () => zone || 'UTC';
/** A 24-hour clock in the city's zone. @param {number} ms @param {boolean} [withSeconds] */
export function clockTime(ms, withSeconds = true) {
  /** @type {Intl.DateTimeFormatOptions} */
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
/** @param {number | string | Date} ms */
export function dateTime(ms) {
  try {
    return new Date(ms).toLocaleString('en-GB', {
      timeZone: zone,
      dateStyle: 'medium',
      timeStyle: 'short',
      hourCycle: 'h23',
    });
  } catch {
    return new Date(ms).toLocaleString('en-GB');
  }
}

/**
 * A KPI status as the server gave it (final, provisional, no-data-expected): the page never derives one.
 * @type {Record<string, string>}
 */
const STATUS_TEXT = { final: 'final', provisional: 'provisional', 'no-data-expected': 'no data expected' };
/** @param {string | null | undefined} status */
export const statusText = (status) => STATUS_TEXT[status ?? ''] ?? String(status ?? '');
/** @param {string | null | undefined} status */
export const statusClass = (status) =>
  `chip chip-${status === 'final' ? 'final' : status === 'no-data-expected' ? 'none' : 'provisional'}`;

/** Band 1..4 (U4SSC score points) → CSS class. @param {number | null | undefined} points */
export const bandClass = (points) =>
  typeof points === 'number' && points >= 1 && points <= 4 ? `band-${points}` : 'band-none';

/** @param {string} text */
export function emptyState(text) {
  return el('p', { class: 'empty' }, text);
}
