// @ts-check
// City snapshot (the U4SSC "snapshot" view): one page per period, every KPI with its value and benchmark
// band, grouped by dimension, sub-dimension and category, with the score wheel. KPIs without a value are
// shown as "not reported". Printable (print stylesheet; "Print / PDF" opens the browser's print dialog, which
// saves PDF) and exportable as PNG (the wheel and the category scores, drawn as SVG onto a canvas).
// URL: #/snapshot/2026-11 or #/snapshot/2026

import { api } from '../api.js';
import { bandClass, el, number, statusClass, statusText, svg } from '../dom.js';
import { state } from '../live.js';
import { BAND_COLOURS, drawWheel, pointsOf } from '../wheel.js';

/**
 * @typedef {{ code: string, compactCode?: string, name: string, dimension: string, subDimension: string,
 *   category: string, dataPoint: string | null, value: number | null, unit: string, band: string | null,
 *   points: number | null, status: string | null }} Entry
 * @typedef {{ name: string, score: any, entries: Entry[] }} CategoryNode
 * @typedef {{ name: string, score: any, children: CategoryNode[] }} SubNode
 * @typedef {{ name: string, score: any, children: SubNode[] }} DimNode
 * @typedef {{ entries: Entry[], closed: boolean, version: number, scores?: any }} Rollup
 */

function currentMonth() {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: state.hello?.timezone || 'UTC',
    year: 'numeric',
    month: '2-digit',
  }).formatToParts(new Date());
  const get = (/** @type {string} */ t) => parts.find((p) => p.type === t)?.value;
  return `${get('year')}-${get('month')}`;
}

/** @param {string} period @param {number} by */
function shift(period, by) {
  if (/^\d{4}$/.test(period)) return String(Number(period) + by);
  const [y, m] = period.split('-').map(Number);
  const d = new Date(Date.UTC(Number(y), Number(m) - 1 + by, 1));
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** @param {string} period */
function periodLabel(period) {
  if (/^\d{4}$/.test(period)) return period;
  const [y, m] = period.split('-').map(Number);
  return new Date(Date.UTC(Number(y), Number(m) - 1, 1)).toLocaleDateString('en-GB', {
    month: 'long',
    year: 'numeric',
    timeZone: 'UTC',
  });
}

const groupName = (/** @type {any} */ g) => g.category ?? g.subDimension ?? g.dimension ?? g.name;

/** dimension → sub-dimension → category → entries, in catalogue order (the order entries come in). */
/** @param {Rollup} rollup @returns {DimNode[]} */
function buildTree(rollup) {
  const scores = rollup.scores || {};
  // by the whole path: "Transport" is a category of both ICT and Infrastructure, and each has its own score
  /**
   * @param {any[] | undefined} list @param {string} name
   * @param {{ dimension?: string, subDimension?: string }} [path]
   */
  const find = (list, name, path = {}) =>
    (list || []).find(
      (g) =>
        groupName(g) === name &&
        (path.dimension === undefined || g.dimension === path.dimension) &&
        (path.subDimension === undefined || g.subDimension === path.subDimension),
    ) || null;
  const dims = new Map();
  for (const e of rollup.entries) {
    if (!dims.has(e.dimension)) dims.set(e.dimension, new Map());
    const subs = dims.get(e.dimension);
    if (!subs.has(e.subDimension)) subs.set(e.subDimension, new Map());
    const cats = subs.get(e.subDimension);
    if (!cats.has(e.category)) cats.set(e.category, []);
    cats.get(e.category).push(e);
  }
  return [...dims].map(([dName, subs]) => ({
    name: dName,
    score: find(scores.dimensions, dName),
    children: [...subs].map(([sName, cats]) => ({
      name: sName,
      score: find(scores.subDimensions, sName, { dimension: dName }),
      children: [...cats].map(([cName, entries]) => ({
        name: cName,
        score: find(scores.categories, cName, { dimension: dName, subDimension: sName }),
        entries,
      })),
    })),
  }));
}

/** How many KPIs of a group are scored: a score resting on 1 of 55 KPIs must say so. */
/** @param {Entry[]} entries */
function basisOf(entries) {
  const all = new Set(entries.map((e) => e.code));
  const scored = new Set(
    entries.filter((e) => e.points !== null && e.points !== undefined).map((e) => e.code),
  );
  return { scored: scored.size, total: all.size };
}

/** @param {DimNode | SubNode | CategoryNode} node @returns {Entry[]} */
const entriesOf = (node) =>
  'entries' in node
    ? node.entries
    : /** @type {Array<SubNode | CategoryNode>} */ (node.children).flatMap((c) => entriesOf(c));

/** @param {any} score @param {DimNode | SubNode | CategoryNode} [node] */
function scoreChip(score, node) {
  const pts = pointsOf(score);
  const basis = node ? basisOf(entriesOf(node)) : null;
  return el(
    'span',
    { class: 'score-wrap' },
    el(
      'span',
      { class: `chip score ${bandClass(pts)}` },
      score ? `${Math.round(score.percent ?? 0)} %` : 'not scored',
    ),
    basis
      ? el(
          'span',
          { class: 'score-basis', 'data-scored': basis.scored, 'data-total': basis.total },
          `${basis.scored} of ${basis.total} KPI${basis.total === 1 ? '' : 's'} scored`,
        )
      : null,
  );
}

const kpiLink = (/** @type {Entry} */ e, /** @type {string} */ text) =>
  el('a', { href: `#/kpi/${encodeURIComponent(e.compactCode || e.code)}`, class: 'kpi-link' }, text);

/**
 * One KPI row in three cells (KPI, value, marks), so that a category card of 26 rem holds it: six cells
 * of codes, names, units and chips that do not wrap cannot fit that width.
 */
/** @param {Entry} e */
function entryRow(e) {
  const reported = typeof e.value === 'number';
  return el(
    'tr',
    { class: reported ? '' : 'nr', 'data-code': e.code },
    el(
      'td',
      { class: 'name' },
      el('div', { class: 'code' }, kpiLink(e, e.compactCode || e.code)),
      kpiLink(e, e.name),
      e.dataPoint ? el('span', { class: 'muted' }, ` · ${e.dataPoint}`) : null,
    ),
    el(
      'td',
      { class: 'num value' },
      reported ? number(e.value, 2) : 'NR',
      el('div', { class: 'unit' }, reported ? e.unit : 'not reported'),
    ),
    el(
      'td',
      { class: 'marks' },
      reported && e.band
        ? el('span', { class: `chip ${bandClass(e.points)}` }, e.band)
        : el('span', { class: 'muted small' }, reported ? 'no target' : '–'),
      // the server's status (final, provisional, no data expected), never derived here
      e.status ? el('span', { class: statusClass(e.status) }, statusText(e.status)) : null,
    ),
  );
}

/** @param {HTMLElement} root @param {string[]} args */
export function snapshotView(root, args) {
  const period = args[0] && /^\d{4}(-\d{2})?$/.test(args[0]) ? args[0] : currentMonth();
  if (args[0] !== period) history.replaceState(null, '', `#/snapshot/${period}`);
  const body = el(
    'div',
    { class: 'snapshot-body', 'data-testid': 'snapshot' },
    el('p', { class: 'muted' }, 'Loading…'),
  );
  const status = el('span', { class: 'muted' });
  /** @type {any} */
  let wheel = null;
  /** @type {DimNode[]} */
  let tree = [];
  const exportPng = el(
    'button',
    { type: 'button', class: 'ghost', 'data-action': 'export-png', disabled: true },
    'Export PNG',
  );
  const print = el(
    'button',
    { type: 'button', class: 'ghost', 'data-action': 'print', onclick: () => window.print() },
    'Print / PDF',
  );
  root.append(
    el(
      'div',
      { class: 'snapshot-head card' },
      el('div', null, el('h2', null, `City snapshot · ${periodLabel(period)}`), status),
      el(
        'div',
        { class: 'filters no-print' },
        el('a', { class: 'button ghost', href: `#/snapshot/${shift(period, -1)}` }, '‹ Previous'),
        el('a', { class: 'button ghost', href: `#/snapshot/${shift(period, 1)}` }, 'Next ›'),
        el('a', { class: 'button ghost', href: `#/snapshot/${period.slice(0, 4)}` }, 'Year'),
        exportPng,
        print,
      ),
    ),
    body,
  );

  exportPng.addEventListener('click', () => downloadPng(period, tree, wheel));

  api(`/api/rollups/${period}`)
    .then((/** @type {Rollup} */ rollup) => {
      tree = buildTree(rollup);
      const reported = rollup.entries.filter((e) => typeof e.value === 'number').length;
      status.textContent = `${rollup.closed ? `closed, version ${rollup.version}` : 'open period: provisional'} · ${reported} of ${rollup.entries.length} values reported`;
      wheel = drawWheel(tree, { title: state.hello?.cityName || '', subtitle: periodLabel(period) });
      const legend = el(
        'div',
        { class: 'band-legend' },
        ...[4, 3, 2, 1].map((p) =>
          el(
            'span',
            null,
            el('i', { class: `swatch ${bandClass(p)}` }),
            ['', '0–33 %', '33–66 %', '66–95 %', '95–100 %'][p],
          ),
        ),
        el('span', null, el('i', { class: 'swatch band-none' }), 'not scored'),
      );
      const countOf = (/** @type {DimNode} */ d) => {
        const entries = d.children.flatMap((sd) => sd.children.flatMap((c) => c.entries));
        return `${entries.filter((e) => typeof e.value === 'number').length} of ${entries.length} reported`;
      };
      const dimensionScores = el(
        'ul',
        { class: 'dimension-scores' },
        ...tree.map((d) =>
          el(
            'li',
            null,
            el('span', null, el('strong', null, d.name), el('div', { class: 'muted small' }, countOf(d))),
            scoreChip(d.score, d),
          ),
        ),
      );
      body.replaceChildren(
        el(
          'section',
          { class: 'card wheel-card' },
          el('div', { class: 'wheel-box' }, wheel),
          el('div', { class: 'wheel-side' }, el('h3', null, 'Dimension scores'), dimensionScores, legend),
        ),
        ...tree.map((d) =>
          el(
            'section',
            { class: 'dimension', 'data-dimension': d.name },
            el('h2', { class: 'dimension-title' }, d.name, ' ', scoreChip(d.score, d)),
            ...d.children.map((s) =>
              el(
                'div',
                { class: 'sub-dimension' },
                el('h3', null, s.name, ' ', scoreChip(s.score, s)),
                el(
                  'div',
                  { class: 'category-grid' },
                  ...s.children.map((cat) =>
                    el(
                      'article',
                      { class: 'card category', 'data-category': cat.name },
                      el('h4', null, cat.name, ' ', scoreChip(cat.score, cat)),
                      el(
                        'table',
                        { class: 'table kpi-table' },
                        el('tbody', null, ...cat.entries.map(entryRow)),
                      ),
                    ),
                  ),
                ),
              ),
            ),
          ),
        ),
      );
      exportPng.disabled = false;
    })
    .catch((err) => {
      body.replaceChildren(
        el(
          'p',
          { class: 'empty' },
          err.status === 404 ? 'No roll-up for this period.' : `Cannot load the roll-up: ${err.message}`,
        ),
      );
    });
  return {};
}

/** The wheel plus a list of category scores as one SVG, rasterised onto a canvas and downloaded as PNG. */
/** @param {string} period @param {DimNode[]} tree @param {any} wheel */
function downloadPng(period, tree, wheel) {
  const wheelSize = Number(wheel.getAttribute('width'));
  const listX = wheelSize + 40;
  const cats = tree.flatMap((d) =>
    d.children.flatMap((s) => s.children.map((c) => ({ ...c, dimension: d.name }))),
  );
  const rowH = 26;
  const height = Math.max(wheelSize, 120 + cats.length * rowH) + 40;
  const width = listX + 560;
  const poster = svg('svg', {
    xmlns: 'http://www.w3.org/2000/svg',
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    'font-family': 'system-ui, sans-serif',
  });
  poster.append(svg('rect', { width, height, fill: '#0b1020' }));
  const w = wheel.cloneNode(true);
  w.setAttribute('x', '0');
  w.setAttribute('y', '40');
  poster.append(w);
  poster.append(
    svg(
      'text',
      { x: listX, y: 60, fill: '#e8eef8', 'font-size': 28, 'font-weight': 700 },
      `${state.hello?.cityName || 'City'} · ${periodLabel(period)}`,
    ),
  );
  poster.append(svg('text', { x: listX, y: 90, fill: '#8b96a8', 'font-size': 16 }, 'U4SSC category scores'));
  cats.forEach((c, i) => {
    const y = 130 + i * rowH;
    const pts = pointsOf(c.score);
    const reported = c.entries.filter((e) => typeof e.value === 'number').length;
    poster.append(
      svg('rect', {
        x: listX,
        y: y - 14,
        width: 14,
        height: 14,
        rx: 3,
        fill: BAND_COLOURS[/** @type {keyof typeof BAND_COLOURS} */ (pts ?? 'none')],
      }),
      svg('text', { x: listX + 24, y: y - 2, fill: '#c9d3e3', 'font-size': 15 }, `${c.name}`),
      svg(
        'text',
        { x: listX + 360, y: y - 2, fill: '#e8eef8', 'font-size': 15, 'font-weight': 700 },
        c.score ? `${Math.round(c.score.percent ?? 0)} %` : '–',
      ),
      svg(
        'text',
        { x: listX + 430, y: y - 2, fill: '#8b96a8', 'font-size': 13 },
        `${reported}/${c.entries.length} reported`,
      ),
    );
  });
  const text = new XMLSerializer().serializeToString(poster);
  const url = URL.createObjectURL(new Blob([text], { type: 'image/svg+xml' }));
  const img = new Image();
  img.onload = () => {
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    canvas.getContext('2d')?.drawImage(img, 0, 0);
    URL.revokeObjectURL(url);
    canvas.toBlob((blob) => {
      if (blob === null) return;
      const a = el('a', { href: URL.createObjectURL(blob), download: `snapshot-${period}.png` });
      document.body.append(a);
      a.click();
      a.remove();
    }, 'image/png');
  };
  img.src = url;
}
