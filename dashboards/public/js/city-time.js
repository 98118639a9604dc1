// @ts-check
// Wall-clock time in the city's IANA zone, with the browser's Intl only (the page has no build step, so
// no luxon): what a person types and reads is city time on a 24-hour clock, whatever the browser's zone.

/** @type {Map<string, Intl.DateTimeFormat>} */
const formats = new Map();

/** @param {string} zone */
function partsFormat(zone) {
  let f = formats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formats.set(zone, f);
  }
  return f;
}

/**
 * @typedef {{ year: number, month: number, day: number, hour: number, minute: number, second: number }} Wall
 */

/**
 * The city's wall clock at an instant.
 * @param {number} ms
 * @param {string} zone
 * @returns {Wall}
 */
export function wallOf(ms, zone) {
  /** @type {Record<string, number>} */
  const p = {};
  for (const part of partsFormat(zone).formatToParts(new Date(ms)))
    if (part.type !== 'literal') p[part.type] = Number(part.value);
  return {
    year: p.year ?? 1970,
    month: p.month ?? 1,
    day: p.day ?? 1,
    hour: p.hour ?? 0,
    minute: p.minute ?? 0,
    second: p.second ?? 0,
  };
}

/** Minutes the zone is ahead of UTC at an instant. @param {number} ms @param {string} zone */
export function offsetMinutes(ms, zone) {
  const w = wallOf(ms, zone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return Math.round((asUtc - (ms - (ms % 1000))) / 60_000);
}

/**
 * The instant a wall-clock time names in the zone. A time skipped by a DST change (spring) moves forward by
 * the gap; a time that occurs twice (autumn) is its first occurrence.
 * @param {Wall} w
 * @param {string} zone
 */
export function instantOf(w, zone) {
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  // The offsets a day either side: a transition lies between them, never two.
  const before = asUtc - offsetMinutes(asUtc - 86_400_000, zone) * 60_000;
  const after = asUtc - offsetMinutes(asUtc + 86_400_000, zone) * 60_000;
  const shows = (/** @type {number} */ t) => {
    const x = wallOf(t, zone);
    return (
      x.year === w.year &&
      x.month === w.month &&
      x.day === w.day &&
      x.hour === w.hour &&
      x.minute === w.minute
    );
  };
  const valid = [before, after].filter(shows);
  // None valid: the time was skipped; read with the offset before the change, it lands past the gap.
  return valid.length > 0 ? Math.min(...valid) : before;
}

const pad = (/** @type {number} */ n, width = 2) => String(n).padStart(width, '0');

/** "2026-12-03 18:07" in the zone: what the range inputs show and take. @param {number} ms @param {string} zone */
export function formatWall(ms, zone) {
  const w = wallOf(ms, zone);
  return `${w.year}-${pad(w.month)}-${pad(w.day)} ${pad(w.hour)}:${pad(w.minute)}`;
}

/**
 * Reads "YYYY-MM-DD HH:mm" (or with a T) as city time; null when it is not such a time.
 * @param {string} text
 * @param {string} zone
 * @returns {number | null}
 */
export function parseWall(text, zone) {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})$/.exec(text.trim());
  if (!m) return null;
  const [year, month, day, hour, minute] = m.slice(1).map(Number);
  if (year === undefined || month === undefined || day === undefined) return null;
  if (hour === undefined || minute === undefined) return null;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59) return null;
  // 31 February is refused rather than rolled into March.
  if (new Date(Date.UTC(year, month - 1, day)).getUTCMonth() !== month - 1) return null;
  return instantOf({ year, month, day, hour, minute, second: 0 }, zone);
}

/** ISO 8601 with the city's offset: "2026-12-03T18:07:00+01:00". @param {number} ms @param {string} zone */
export function isoWithOffset(ms, zone) {
  const w = wallOf(ms, zone);
  const off = offsetMinutes(ms, zone);
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off);
  return `${w.year}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/**
 * Midnight starting the city month `delta` months from the one holding `ms` (0 this month, -1 the last).
 * @param {number} ms
 * @param {string} zone
 * @param {number} delta
 */
export function monthStart(ms, zone, delta) {
  const w = wallOf(ms, zone);
  const index = w.year * 12 + (w.month - 1) + delta;
  return instantOf(
    { year: Math.floor(index / 12), month: (index % 12) + 1, day: 1, hour: 0, minute: 0, second: 0 },
    zone,
  );
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * Labels of a time axis in city time on a 24-hour clock: "HH:mm" for ticks within a day, with the date
 * under the first tick and wherever the day changes; "3 Dec" for ticks a day or more apart.
 * @param {number[]} ticksMs
 * @param {string} zone
 * @returns {string[]}
 */
export function axisLabels(ticksMs, zone) {
  const spacing = ticksMs.length > 1 ? (ticksMs[1] ?? 0) - (ticksMs[0] ?? 0) : 0;
  /** @type {string | null} */
  let lastDay = null;
  return ticksMs.map((ms) => {
    const w = wallOf(ms, zone);
    const day = `${w.day} ${MONTHS[w.month - 1]}`;
    if (spacing >= 86_400_000 - 3_600_000) return day; // DST days are 23 or 25 hours long
    const time = `${pad(w.hour)}:${pad(w.minute)}`;
    const label = day !== lastDay ? `${time}\n${day}` : time;
    lastDay = day;
    return label;
  });
}
