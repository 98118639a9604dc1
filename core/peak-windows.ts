import type { DateTime } from 'luxon';
import type { CityCalendar } from './city-calendar.ts';

/**
 * Peak periods of a weekday as local clock windows (`07:00-09:00,16:30-18:30`): minutes after local
 * midnight, start inclusive, end exclusive. Read in the city's zone by whoever applies them, so a window
 * keeps its clock hours across DST changes.
 */
export interface ClockWindow {
  /** minutes after local midnight, inclusive */
  startMin: number;
  /** minutes after local midnight, exclusive */
  endMin: number;
}

export const PEAK_WINDOWS_FORM =
  'HH:MM-HH:MM[,HH:MM-HH:MM...], 24-hour local times, each start before its end, windows not overlapping (e.g. 07:00-09:00,16:30-18:30)';

const WINDOW = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]|24):([0-5]\d)$/;

/** The windows of a list, sorted by start; null when the text is not of PEAK_WINDOWS_FORM. */
export function parsePeakWindows(text: string): ClockWindow[] | null {
  const parts = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (parts.length === 0) return null;
  const windows: ClockWindow[] = [];
  for (const part of parts) {
    const m = WINDOW.exec(part);
    if (m === null) return null;
    const startMin = Number(m[1]) * 60 + Number(m[2]);
    const endMin = Number(m[3]) * 60 + Number(m[4]);
    if (endMin > 24 * 60 || startMin >= endMin) return null;
    windows.push({ startMin, endMin });
  }
  windows.sort((a, b) => a.startMin - b.startMin);
  for (let i = 1; i < windows.length; i++) if (windows[i]!.startMin < windows[i - 1]!.endMin) return null;
  return windows;
}

/** Monday to Friday (ISO weekday numbers, as luxon gives them). */
export const WEEKDAYS: readonly number[] = [1, 2, 3, 4, 5];

/**
 * The instants [start, end) of the windows on the given local weekdays within [from, to), in order. Each
 * bound is set as a local clock time of its own day (never midnight plus minutes), so 07:00 stays 07:00 on
 * the 23- and 25-hour days of DST; a bound falling in a spring-forward gap moves to the first instant after
 * it (luxon), and 24:00 is the next local midnight.
 */
export function windowInstants(
  calendar: CityCalendar,
  from: number,
  to: number,
  windows: readonly ClockWindow[],
  weekdays: readonly number[] = WEEKDAYS,
): Array<{ start: number; end: number }> {
  const out: Array<{ start: number; end: number }> = [];
  const at = (day: DateTime, min: number): number =>
    min === 24 * 60
      ? day.plus({ days: 1 }).toMillis()
      : day.set({ hour: Math.floor(min / 60), minute: min % 60 }).toMillis();
  for (let day = calendar.local(from).startOf('day'); day.toMillis() < to; day = day.plus({ days: 1 })) {
    if (!weekdays.includes(day.weekday)) continue;
    for (const w of windows) {
      const start = Math.max(from, at(day, w.startMin));
      const end = Math.min(to, at(day, w.endMin));
      if (start < end) out.push({ start, end });
    }
  }
  return out;
}
