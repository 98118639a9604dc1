// @ts-check
// The chart as a CSV file: the same aligned points uPlot draws, one row per time, one column per line.

import { isoWithOffset } from '../city-time.js';
import { csvLine } from '../files.js';

/**
 * @typedef {object} CsvColumn
 * @property {string} name device name and id, district, or city and kind
 * @property {string} stat mean, min or max
 */

/**
 * @param {{ metric: string, unit: string, step: string, zone: string, columns: CsvColumn[],
 *   data: ReadonlyArray<ArrayLike<number | null | undefined>> }} chart
 *   `data` as uPlot holds it: times in seconds first, then one array per column
 * @returns {string}
 */
export function seriesCsv(chart) {
  const header = [
    `time (${chart.zone})`,
    ...chart.columns.map((c) => `${c.name} · ${chart.metric} ${c.stat} (${chart.unit}) · per ${chart.step}`),
  ];
  const times = chart.data[0] ?? [];
  const lines = [csvLine(header)];
  for (let i = 0; i < times.length; i++) {
    const t = times[i];
    if (t === null || t === undefined) continue;
    lines.push(
      csvLine([isoWithOffset(t * 1000, chart.zone), ...chart.columns.map((_, c) => chart.data[c + 1]?.[i])]),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}
