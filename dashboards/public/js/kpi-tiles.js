// @ts-check
// KPI tiles: value, unit, period, benchmark band colour, provisional/final, trend. Each tile is a link to
// its KPI page. Built once per KPI and updated in place, so a live push repaints text, not the grid.

import { apiOptional, getRole } from './api.js';
import { bandClass, el, number, statusClass, statusText } from './dom.js';
import { markDirty, state } from './live.js';

const PERIOD = 'month-to-date';

/**
 * @typedef {{ value: number | null, unit?: string, period?: string, status?: string, statusReason?: string,
 *   completeness?: number | null }} KpiValueView
 * @typedef {{ code: string, compactCode: string, name: string, dimension: string, category: string,
 *   unit?: string, obtained?: string, betterWhen?: string, current?: Record<string, KpiValueView | null>,
 *   score?: { points: number, band: string } | null,
 *   trend?: { monthOverMonth: number | null, yearOverYear: number | null } }} KpiItem
 * @typedef {{ role: string, codes: string[], configured: boolean, updatedBy: string | null,
 *   updatedAt: string | null }} TileLayout
 */

/** The KPI page of a KPI: `#/kpi/EN-EN-AQ-1C`. */
export const kpiHref = (/** @type {{ compactCode?: string, code: string }} */ item) =>
  `#/kpi/${encodeURIComponent(
    item.compactCode ||
      item.code
        .split(':')
        .map((p) => p.trim())
        .join('-'),
  )}`;

/** The signed-in role's tiles; without the API part (no KPI engine) the layout stays null. */
export async function loadTileLayout() {
  state.tileLayout = await apiOptional(`/api/tile-layouts/${getRole()}`);
  markDirty('kpis');
}

/** @param {KpiItem} item */
function trendOf(item) {
  const t = item.trend?.monthOverMonth ?? item.trend?.yearOverYear;
  // no trend yet (fewer than two closed months): no mark at all, rather than an arrow that reads as a link
  if (typeof t !== 'number' || !Number.isFinite(t))
    return { arrow: '', cls: 'flat', text: 'no trend yet: needs two closed months' };
  if (t === 0) return { arrow: '=', cls: 'flat', text: 'no change vs the month before (last closed month)' };
  const up = t > 0;
  const better = item.betterWhen === 'higher' ? up : item.betterWhen === 'lower' ? !up : null;
  return {
    arrow: up ? '▲' : '▼',
    cls: better === null ? 'flat' : better ? 'better' : 'worse',
    text: `${up ? '+' : ''}${number(t, 1)} % vs the month before (last closed month)`,
  };
}

/**
 * The tiles in the role's order (the layout an admin saved, or the server's default: what sensors feed
 * first); KPIs the list does not have are skipped.
 * @returns {KpiItem[]}
 */
export function pickTiles() {
  const codes = /** @type {TileLayout | null} */ (state.tileLayout)?.codes;
  if (!codes) return [];
  return codes.map((c) => state.kpis.get(c)).filter((k) => k !== undefined);
}

/** @param {HTMLElement} container */
export function createKpiTiles(container) {
  /** @type {Map<string, { root: HTMLElement, parts: Record<string, HTMLElement> }>} */
  const tiles = new Map();
  /** @param {KpiItem} item */
  function tile(item) {
    const parts = {
      value: el('span', { class: 'kpi-value' }),
      unit: el('span', { class: 'kpi-unit' }),
      period: el('span', { class: 'kpi-period' }),
      status: el('span', { class: 'chip' }),
      band: el('span', { class: 'kpi-band' }),
      trend: el('span', { class: 'trend', role: 'img' }),
    };
    const root = el(
      'a',
      { class: 'kpi-tile', href: kpiHref(item), 'data-code': item.code },
      el('header', null, el('span', { class: 'kpi-code' }, item.compactCode || item.code), parts.trend),
      el('h3', null, item.name),
      el('p', { class: 'kpi-reading' }, parts.value, ' ', parts.unit),
      el(
        'footer',
        null,
        parts.period,
        parts.status,
        parts.band,
        el('span', { class: 'kpi-more' }, 'Details ›'),
      ),
    );
    return { root, parts };
  }
  /** @param {{ root: HTMLElement, parts: Record<string, HTMLElement> }} t @param {KpiItem} item */
  function paint(t, item) {
    const v = item.current?.[PERIOD] ?? null;
    const hasValue = v !== null && typeof v.value === 'number';
    t.parts.value.textContent = hasValue ? number(v.value, 2) : 'NR';
    t.parts.unit.textContent = hasValue ? v.unit || item.unit || '' : 'not reported';
    t.parts.period.textContent = v?.period ?? PERIOD;
    // the server's verdict (metrics/kpi-status.ts): a month to date is never final
    const status = v?.status ?? null;
    t.parts.status.textContent = status === null ? '' : statusText(status);
    t.parts.status.className = statusClass(status);
    t.parts.status.hidden = status === null;
    const score = item.score;
    t.root.className = `kpi-tile ${hasValue ? bandClass(score?.points) : 'band-none nr'}`;
    t.root.title = `${item.name} (${item.code}) · ${item.dimension} › ${item.category} · open its page`;
    t.parts.band.textContent = hasValue && score ? `${score.band}` : '';
    const trend = trendOf(item);
    t.parts.trend.textContent = hasValue ? trend.arrow : '';
    t.parts.trend.hidden = !hasValue || trend.arrow === '';
    t.parts.trend.className = `trend ${trend.cls}`;
    t.parts.trend.title = trend.text;
    t.parts.trend.setAttribute('aria-label', `trend: ${trend.text}`);
  }
  return {
    update() {
      if (state.kpiAvailable === false || state.kpis.size === 0) {
        container.replaceChildren(
          el(
            'p',
            { class: 'empty' },
            state.kpiAvailable === false
              ? 'KPI engine not available in this deployment.'
              : 'No KPI values yet.',
          ),
        );
        delete container.dataset.codes;
        tiles.clear();
        return;
      }
      const chosen = pickTiles();
      const codes = chosen.map((k) => k.code).join('|');
      if (codes !== container.dataset.codes) {
        container.dataset.codes = codes;
        tiles.clear();
        container.replaceChildren(
          ...chosen.map((item) => {
            const t = tile(item);
            tiles.set(item.code, t);
            return t.root;
          }),
        );
      }
      for (const item of chosen) {
        const t = tiles.get(item.code);
        if (t) paint(t, item);
      }
    },
  };
}
