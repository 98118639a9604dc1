// @ts-check
// The time range of the series view: presets and a custom range in city time, the step a range is drawn
// at, and the range's token in the URL hash (a preset id, or "from~to" in city wall time).

import { formatWall, monthStart, parseWall } from '../city-time.js';

/** @typedef {'minute' | 'hour' | 'day'} Step */
/** @typedef {{ token: string, from: number, to: number, step: Step, live: boolean }} Range */

export const STEP_MS = /** @type {const} */ ({ minute: 60_000, hour: 3_600_000, day: 86_400_000 });
const HOUR = 3_600_000;
const DAY = 86_400_000;

/** Preset ids with their labels, in the order the picker offers them. */
export const PRESETS = /** @type {const} */ ([
  ['1h', 'last hour'],
  ['6h', 'last 6 hours'],
  ['24h', 'last 24 hours'],
  ['7d', 'last 7 days'],
  ['30d', 'last 30 days'],
  ['this-month', 'this month'],
  ['last-month', 'last month'],
]);
/** @type {Record<string, number>} */
const SPAN_MS = { '1h': HOUR, '6h': 6 * HOUR, '24h': 24 * HOUR, '7d': 7 * DAY, '30d': 30 * DAY };
/** Earlier links named a step, not a range: each opens the range that step drew. */
const LEGACY = { minute: '6h', hour: '7d', day: '30d' };

/**
 * A few hundred points at most, so a line stays readable and a request stays small: minutes up to 8 hours
 * (480 points), hours up to 20 days (480), days beyond.
 * @param {number} spanMs
 * @returns {Step}
 */
export function stepFor(spanMs) {
  if (spanMs <= 8 * HOUR) return 'minute';
  if (spanMs <= 20 * DAY) return 'hour';
  return 'day';
}

/**
 * The range a URL token names at `now`; the default (last 24 hours) for an unknown token.
 * @param {string} token
 * @param {number} now
 * @param {string} zone
 * @returns {Range}
 */
export function resolveRange(token, now, zone) {
  const legacy = /** @type {Record<string, string>} */ (LEGACY)[token];
  if (legacy) return resolveRange(legacy, now, zone);
  const custom = /^(.+)~(.+)$/.exec(token);
  if (custom) {
    const from = parseWall(custom[1] ?? '', zone);
    const to = parseWall(custom[2] ?? '', zone);
    if (from !== null && to !== null && to > from)
      return { token, from, to, step: stepFor(to - from), live: to > now };
  }
  if (token === 'this-month') {
    const from = monthStart(now, zone, 0);
    const step = stepFor(now - from);
    return { token, from, to: now + STEP_MS[step], step, live: true };
  }
  if (token === 'last-month') {
    const from = monthStart(now, zone, -1);
    const to = monthStart(now, zone, 0);
    return { token, from, to, step: stepFor(to - from), live: false };
  }
  const span = SPAN_MS[token];
  if (span === undefined) return resolveRange('24h', now, zone);
  const step = stepFor(span);
  // One step past now, so that the bucket under way is drawn and live values join it.
  return { token, from: now - span, to: now + STEP_MS[step], step, live: true };
}

/** The token of a custom range: city wall times, "T" instead of the space. @param {number} from @param {number} to @param {string} zone */
export const customToken = (from, to, zone) =>
  `${formatWall(from, zone).replace(' ', 'T')}~${formatWall(to, zone).replace(' ', 'T')}`;

/** Whether a token names a preset (otherwise it is custom). @param {string} token */
export const isPreset = (token) => PRESETS.some(([id]) => id === token);
