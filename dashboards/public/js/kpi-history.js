// @ts-check
// The history chart of a KPI page: one point per closed month (its newest version), the running month as
// a hollow point, the target as a dashed line, restated months ringed and labelled. Plain SVG, so that the
// marks are elements a test (and a screen reader, through their titles) can find.

import { el, number, svg } from './dom.js';
import { BAND_COLOURS } from './wheel.js';

/**
 * @typedef {{ period: string, value: number | null, version: number, points: number | null,
 *   status: string, running?: boolean, restatements?: string[] }} HistoryPoint
 */

const W = 760;
const H = 240;
const PAD = { left: 56, right: 16, top: 18, bottom: 34 };

/**
 * @param {HistoryPoint[]} points oldest first
 * @param {{ unit: string, target: number | null }} opts
 */
export function drawHistory(points, { unit, target }) {
  const valued = points.filter((p) => typeof p.value === 'number');
  if (valued.length === 0)
    return el('p', { class: 'empty' }, 'No month has a value yet: the chart fills as months close.');
  const values = valued.map((p) => /** @type {number} */ (p.value));
  if (typeof target === 'number') values.push(target);
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (lo === hi) {
    lo -= Math.abs(lo) * 0.1 || 1;
    hi += Math.abs(hi) * 0.1 || 1;
  }
  const span = hi - lo;
  lo -= span * 0.08;
  hi += span * 0.08;
  const n = points.length;
  const x = (/** @type {number} */ i) =>
    PAD.left + (n === 1 ? 0.5 : i / (n - 1)) * (W - PAD.left - PAD.right);
  const y = (/** @type {number} */ v) => PAD.top + (1 - (v - lo) / (hi - lo)) * (H - PAD.top - PAD.bottom);
  const chart = svg('svg', {
    class: 'kpi-history-chart',
    viewBox: `0 0 ${W} ${H}`,
    role: 'img',
    'aria-label': `history of ${n} months`,
  });
  // horizontal grid with three labels
  for (const t of [lo + (hi - lo) * 0.1, (lo + hi) / 2, hi - (hi - lo) * 0.1]) {
    chart.append(
      svg('line', { x1: PAD.left, x2: W - PAD.right, y1: y(t), y2: y(t), stroke: '#1f2a3d' }),
      svg(
        'text',
        { x: PAD.left - 6, y: y(t) + 4, 'text-anchor': 'end', fill: '#8b96a8', 'font-size': 11 },
        number(t, 1),
      ),
    );
  }
  if (typeof target === 'number') {
    chart.append(
      svg('line', {
        class: 'target-line',
        x1: PAD.left,
        x2: W - PAD.right,
        y1: y(target),
        y2: y(target),
        stroke: '#4cc9f0',
        'stroke-dasharray': '6 4',
        'stroke-width': 1.5,
      }),
      svg(
        'text',
        { x: W - PAD.right, y: y(target) - 5, 'text-anchor': 'end', fill: '#4cc9f0', 'font-size': 11 },
        `target ${number(target, 2)} ${unit}`,
      ),
    );
  }
  // the line through consecutive valued months (a gap where a month is NR)
  let d = '';
  points.forEach((p, i) => {
    if (typeof p.value !== 'number') {
      d += ' ';
      return;
    }
    d += `${d === '' || d.endsWith(' ') ? 'M' : 'L'}${x(i).toFixed(1)},${y(p.value).toFixed(1)}`;
  });
  chart.append(svg('path', { d: d.trim(), fill: 'none', stroke: '#c9d3e3', 'stroke-width': 2 }));
  points.forEach((p, i) => {
    // the end labels align inwards, so that neither is cut at the chart's edge
    const anchor = n > 1 && i === 0 ? 'start' : n > 1 && i === n - 1 ? 'end' : 'middle';
    const label = svg(
      'text',
      { x: x(i), y: H - 12, 'text-anchor': anchor, fill: '#8b96a8', 'font-size': 11 },
      p.period,
    );
    chart.append(label);
    if (typeof p.value !== 'number') return;
    const colour = BAND_COLOURS[/** @type {1|2|3|4} */ (p.points)] ?? BAND_COLOURS.none;
    const restated = p.version > 1;
    const title = `${p.period}: ${number(p.value, 2)} ${unit} · ${p.running ? 'running, provisional' : p.status}${restated ? ` · restated, version ${p.version}` : ''}`;
    const g = svg('g', {
      class: 'history-point',
      'data-period': p.period,
      'data-restated': restated ? 'true' : null,
    });
    g.append(svg('title', null, title));
    if (restated) {
      g.append(
        svg('circle', {
          cx: x(i),
          cy: y(p.value),
          r: 10,
          fill: 'none',
          stroke: '#ffb020',
          'stroke-width': 2,
        }),
        svg(
          'text',
          {
            x: x(i),
            y: y(p.value) - 14,
            'text-anchor': 'middle',
            fill: '#ffb020',
            'font-size': 11,
            'font-weight': 700,
          },
          `v${p.version}`,
        ),
      );
    }
    g.append(
      svg('circle', {
        cx: x(i),
        cy: y(p.value),
        r: 5.5,
        fill: p.running ? '#0b1020' : colour,
        stroke: p.running ? '#c9d3e3' : '#0b1020',
        'stroke-width': 2,
      }),
    );
    chart.append(g);
  });
  return chart;
}
