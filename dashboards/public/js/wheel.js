// The U4SSC score wheel, drawn as SVG: dimensions in the inner ring, sub-dimensions in the middle, categories
// outside, each slice coloured by its benchmark band. Categories share the circle equally, so every category
// is visible whether or not it is scored.

import { svg } from './dom.js';

export const BAND_COLOURS = { 1: '#e5484d', 2: '#f5a524', 3: '#8bc34a', 4: '#2fbf71', none: '#3a4356' };

/** Points (1..4) of a group score: its own, or from percent when only that is given. */
export function pointsOf(score) {
  if (!score) return null;
  if (score.points >= 1 && score.points <= 4 && score.maxPoints === undefined) return score.points;
  const p = typeof score.percent === 'number' ? score.percent : null;
  if (p === null) return null;
  return p >= 95 ? 4 : p >= 66 ? 3 : p >= 33 ? 2 : 1;
}

function arc(cx, cy, r0, r1, a0, a1) {
  const pt = (r, a) => [cx + r * Math.sin(a), cy - r * Math.cos(a)];
  const large = a1 - a0 > Math.PI ? 1 : 0;
  const [x0, y0] = pt(r1, a0);
  const [x1, y1] = pt(r1, a1);
  const [x2, y2] = pt(r0, a1);
  const [x3, y3] = pt(r0, a0);
  return `M${x0},${y0} A${r1},${r1} 0 ${large} 1 ${x1},${y1} L${x2},${y2} A${r0},${r0} 0 ${large} 0 ${x3},${y3} Z`;
}

/**
 * tree: [{ name, score, children: [{ name, score, children: [{ name, score }] }] }] (dimension → sub → category)
 * Returns an <svg> element, self-contained (inline attributes only) so it can be exported as an image.
 */
export function drawWheel(tree, { size = 640, title = '', subtitle = '' } = {}) {
  const pad = 150; // room for the category labels outside the rings
  const full = size + 2 * pad;
  const c = full / 2;
  const R = size / 2;
  const rings = [
    [R * 0.22, R * 0.48],
    [R * 0.5, R * 0.74],
    [R * 0.76, R],
  ];
  const categories = tree.flatMap((d) => d.children.flatMap((s) => s.children));
  const step = (2 * Math.PI) / Math.max(categories.length, 1);
  const root = svg('svg', {
    xmlns: 'http://www.w3.org/2000/svg',
    viewBox: `0 0 ${full} ${full}`,
    width: full,
    height: full,
    role: 'img',
    'aria-label': title || 'U4SSC score wheel',
    class: 'wheel',
    'font-family': 'system-ui, -apple-system, Segoe UI, Roboto, sans-serif',
  });
  const slice = (level, node, a0, a1) => {
    const pts = pointsOf(node.score);
    const colour = BAND_COLOURS[pts ?? 'none'];
    const [r0, r1] = rings[level];
    const path = svg('path', {
      d: arc(c, c, r0, r1, a0, a1),
      fill: colour,
      stroke: '#0b1020',
      'stroke-width': 2,
      'data-name': node.name,
      'data-level': ['dimension', 'sub-dimension', 'category'][level],
    });
    path.append(
      svg(
        'title',
        null,
        `${node.name}: ${node.score ? `${Math.round(node.score.percent ?? 0)} %` : 'not scored'}`,
      ),
    );
    root.append(path);
    if (level < 2) {
      const mid = (a0 + a1) / 2;
      const r = (r0 + r1) / 2;
      // Horizontal text across a curved slice: measured against the inner arc, the narrowest part.
      const lines = fitLabel(
        node.name,
        Math.min(r0 * (a1 - a0) * 0.85, (r1 - r0) * 0.95),
        r1 - r0,
        level === 0 ? 17 : 12,
      );
      if (lines) {
        const x = c + r * Math.sin(mid);
        const y = c - r * Math.cos(mid);
        const text = svg('text', {
          x,
          y,
          'text-anchor': 'middle',
          'dominant-baseline': 'middle',
          fill: '#0b1020',
          'font-size': lines.size,
          'font-weight': 700,
        });
        for (const [i, w] of lines.words.entries())
          text.append(svg('tspan', { x, dy: i === 0 ? `${-(lines.words.length - 1) * 0.6}em` : '1.2em' }, w));
        root.append(text);
      }
    }
    if (level === 2) {
      const mid = (a0 + a1) / 2;
      const deg = (mid * 180) / Math.PI;
      const right = deg < 180;
      const r = r1 + 10;
      const x = c + r * Math.sin(mid);
      const y = c - r * Math.cos(mid);
      const label = svg('text', {
        x,
        y,
        'text-anchor': right ? 'start' : 'end',
        'dominant-baseline': 'middle',
        fill: '#c9d3e3',
        class: 'category-label',
        'font-size': 13,
        transform: `rotate(${right ? deg - 90 : deg + 90} ${x} ${y})`,
      });
      label.append(
        node.name,
        svg(
          'tspan',
          { fill: colour, 'font-weight': 700 },
          node.score ? ` ${Math.round(node.score.percent ?? 0)}%` : ' –',
        ),
      );
      root.append(label);
    }
  };
  let i = 0;
  for (const d of tree) {
    const dStart = i * step;
    for (const s of d.children) {
      const sStart = i * step;
      for (const cat of s.children) {
        slice(2, cat, i * step, (i + 1) * step);
        i++;
      }
      slice(1, s, sStart, i * step);
    }
    slice(0, d, dStart, i * step);
  }
  root.append(
    svg('circle', { cx: c, cy: c, r: rings[0][0] - 4, fill: '#121a2b', stroke: '#2a3650' }),
    svg(
      'text',
      { x: c, y: c - 8, 'text-anchor': 'middle', fill: '#e8eef8', 'font-size': 20, 'font-weight': 700 },
      title,
    ),
    svg('text', { x: c, y: c + 18, 'text-anchor': 'middle', fill: '#8b96a8', 'font-size': 14 }, subtitle),
  );
  return root;
}

/** One or two lines of a label that fit a slice (width along the arc, height across the ring), or null. */
function fitLabel(name, width, height, maxSize) {
  const words = name.split(' ');
  const half = Math.ceil(words.length / 2);
  const options = [
    [name],
    words.length > 1 ? [words.slice(0, half).join(' '), words.slice(half).join(' ')] : null,
  ].filter(Boolean);
  for (let size = maxSize; size >= 9; size -= 1) {
    for (const lines of options) {
      const longest = Math.max(...lines.map((l) => l.length));
      // ~0.7 em per character of a bold sans-serif, with room to spare
      if (longest * size * 0.7 <= width && lines.length * size * 1.25 <= height)
        return { words: lines, size };
    }
  }
  return null;
}
