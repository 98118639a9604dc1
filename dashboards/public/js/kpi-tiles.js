// KPI tiles: value, unit, period, benchmark band colour, provisional/final, trend arrow. Built once per KPI
// and updated in place, so a live push repaints text, not the grid.

import { bandClass, el, number, statusClass, statusText } from './dom.js';
import { state } from './live.js';

const PERIOD = 'month-to-date';
/** Tiles on the overview: sensor-derived KPIs that have a value first, then the others. */
const MAX_TILES = 12;

function trendOf(item) {
  const t = item.trend?.monthOverMonth ?? item.trend?.yearOverYear;
  if (typeof t !== 'number' || !Number.isFinite(t) || t === 0)
    return { arrow: '→', cls: 'flat', text: 'no change' };
  const up = t > 0;
  const better = item.betterWhen === 'higher' ? up : item.betterWhen === 'lower' ? !up : null;
  return {
    arrow: up ? '↑' : '↓',
    cls: better === null ? 'flat' : better ? 'better' : 'worse',
    text: `${up ? '+' : ''}${number(t, 1)} vs previous`,
  };
}

export function pickTiles() {
  const items = [...state.kpis.values()];
  const valued = items.filter((k) => typeof k.current?.[PERIOD]?.value === 'number');
  const rest = items.filter((k) => !valued.includes(k) && k.obtained !== 'manual');
  return [...valued, ...rest].slice(0, MAX_TILES);
}

export function createKpiTiles(container) {
  const tiles = new Map();
  function tile(item) {
    const parts = {
      value: el('span', { class: 'kpi-value' }),
      unit: el('span', { class: 'kpi-unit' }),
      period: el('span', { class: 'kpi-period' }),
      status: el('span', { class: 'chip' }),
      band: el('span', { class: 'kpi-band' }),
      trend: el('span', { class: 'trend' }),
    };
    const root = el(
      'article',
      {
        class: 'kpi-tile',
        'data-code': item.code,
        title: `${item.code} · ${item.dimension} › ${item.category}`,
      },
      el('header', null, el('span', { class: 'kpi-code' }, item.compactCode || item.code), parts.trend),
      el('h3', null, item.name),
      el('p', { class: 'kpi-reading' }, parts.value, ' ', parts.unit),
      el('footer', null, parts.period, parts.status, parts.band),
    );
    return { root, parts };
  }
  function paint(t, item) {
    const v = item.current?.[PERIOD] ?? null;
    const hasValue = v && typeof v.value === 'number';
    t.parts.value.textContent = hasValue ? number(v.value, 2) : 'NR';
    t.parts.unit.textContent = hasValue ? v.unit || item.unit || '' : 'not reported';
    t.parts.period.textContent = v?.period ?? PERIOD;
    // the server's verdict (metrics/kpi-status.ts): the page never decides final by itself
    const status = v?.status ?? null;
    t.parts.status.textContent = status === null ? '' : statusText(status);
    t.parts.status.className = statusClass(status);
    t.parts.status.hidden = status === null;
    const score = item.score;
    t.root.className = `kpi-tile ${hasValue ? bandClass(score?.points) : 'band-none nr'}`;
    t.root.title = `${item.name} (${item.code}) · ${item.dimension} › ${item.category}`;
    t.parts.band.textContent = hasValue && score ? `${score.band}` : '';
    const trend = trendOf(item);
    t.parts.trend.textContent = hasValue ? trend.arrow : '';
    t.parts.trend.className = `trend ${trend.cls}`;
    t.parts.trend.title = trend.text;
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
      for (const item of chosen) paint(tiles.get(item.code), item);
    },
  };
}
