// @ts-check
// A KPI page (#/kpi/EN-EN-AQ-1C, or #/kpi/EN-EN-AQ-1C/2026-Q4 to explain another period): the value per
// period (month, quarter, year, rolling 12 months), the history of closed months with restatements marked,
// band and target, provisional or final and why, and "explain this number" with the devices on the map.

import { api, apiOptional } from '../api.js';
import { bandClass, el, number, statusClass, statusText } from '../dom.js';
import { explainSection, lineageValueOf, pct, sourceChip } from '../kpi-explain.js';
import { drawHistory } from '../kpi-history.js';
import { kpiHref } from '../kpi-tiles.js';
import { state } from '../live.js';
import { createDistrictMap } from '../map.js';

/** @typedef {import('../kpi-explain.js').LineageAnswer} LineageAnswer */
/** @typedef {import('../kpi-explain.js').ValueLike} ValueLike */

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
/** The period labels of the lineage route: `2026-03`, `2026-Q1`, `2026`, `2026-03-mtd`, `2026-ytd`, `2026-03-r12`. */
const LABEL = /^\d{4}(-\d{2}(-mtd|-r12)?|-Q[1-4]|-ytd)?$/;

/** A period label in words: `2026-03-mtd` → "March 2026 to date". @param {string} label */
export function periodName(label) {
  const m = label.match(/^(\d{4})-(\d{2})(-mtd|-r12)?$/);
  if (m) {
    const month = `${MONTHS[Number(m[2]) - 1]} ${m[1]}`;
    if (m[3] === '-mtd') return `${month} to date`;
    if (m[3] === '-r12') return `12 months to ${month}`;
    return month;
  }
  const q = label.match(/^(\d{4})-(Q[1-4])$/);
  if (q) return `${q[2]} ${q[1]}`;
  const y = label.match(/^(\d{4})-ytd$/);
  if (y) return `${y[1]} to date`;
  return label;
}

/** @param {string} month `YYYY-MM` @param {number} by */
const shiftMonth = (month, by) => {
  const [y, m] = month.split('-').map(Number);
  const d = new Date(Date.UTC(/** @type {number} */ (y), /** @type {number} */ (m) - 1 + by, 1));
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
};

/**
 * @param {HTMLElement} root
 * @param {string[]} args
 */
export function kpiView(root, args) {
  const param = decodeURIComponent(args[0] ?? '');
  const wanted = args[1] && LABEL.test(args[1]) ? args[1] : null;
  const head = el(
    'section',
    { class: 'card kpi-head', 'data-testid': 'kpi-head' },
    el('p', { class: 'muted' }, 'Loading…'),
  );
  const periods = el('section', { class: 'card kpi-periods', 'data-testid': 'kpi-periods' });
  const history = el('section', { class: 'card kpi-history', 'data-testid': 'kpi-history' });
  const explain = el('section', { class: 'card kpi-explain', 'data-testid': 'kpi-explain' });
  const mapCard = el('section', { class: 'card kpi-map-card' });
  root.append(head, el('div', { class: 'kpi-page-grid' }, periods, history), explain, mapCard);
  /** @type {{ destroy(): void, update(s: Set<string>): { mode: string, unlocated: number }, invalidate(): void } | null} */
  let map = null;
  let gone = false;
  // Leaflet sizes its canvas once: after a resize (a tablet rotated) the map must measure again.
  const onResize = () => map?.invalidate();
  window.addEventListener('resize', onResize);

  load().catch((err) => {
    if (gone) return;
    head.replaceChildren(
      el('h2', null, 'KPI not found'),
      el(
        'p',
        { class: 'empty' },
        err.status === 404 ? `No KPI "${param}".` : `Cannot load the KPI: ${err.message}`,
      ),
      el('a', { class: 'button ghost', href: '#/overview' }, '‹ Overview'),
    );
    for (const s of [periods, history, explain, mapCard]) s.remove();
  });

  async function load() {
    const detail = await api(`/api/kpis/${encodeURIComponent(param)}`);
    if (gone) return;
    const def = detail.definition;
    const code = detail.compactCode;
    document.title = `${detail.name} · ${state.hello?.cityName ?? 'citymetrics'}`;
    renderHead(detail);

    const mtd = detail.current['month-to-date'];
    const month = (mtd?.period ?? '').slice(0, 7);
    const quarter = month ? `${month.slice(0, 4)}-Q${Math.ceil(Number(month.slice(5, 7)) / 3)}` : null;
    const previous = month ? shiftMonth(month, -1) : null;
    const selected = wanted ?? mtd?.period ?? null;
    const year = detail.current['year-to-date']?.period ?? null;
    const rolling = detail.current['rolling-12-months']?.period ?? null;
    // Every row computed now through the lineage route, as the explain section is: one page, one value.
    const rows = [
      { name: 'This month', period: mtd?.period ?? null },
      { name: 'This quarter', period: quarter },
      { name: 'This year', period: year },
      { name: 'Rolling 12 months', period: rolling },
      { name: 'Previous month', period: previous },
    ].map((r) => ({ ...r, value: r.period ? lineageValue(r.period) : null }));
    renderPeriods(rows, code, selected);
    renderHistory(detail, null);
    Promise.resolve(rows[0]?.value).then((v) => {
      if (!gone && v) renderHistory(detail, v);
    });
    if (selected) await renderExplain(selected, def, code);
  }

  /** @param {string} period */
  async function lineageValue(period) {
    const answer = await apiOptional(
      `/api/kpis/${encodeURIComponent(param)}/lineage?period=${encodeURIComponent(period)}`,
    );
    return answer ? lineageValueOf(answer) : null;
  }

  /** @param {any} detail */
  function renderHead(detail) {
    const def = detail.definition;
    const score = detail.score;
    const parts = [
      el(
        'div',
        { class: 'kpi-head-top' },
        el('a', { class: 'button ghost', href: '#/overview' }, '‹ Overview'),
        el('a', { class: 'button ghost', href: '#/snapshot' }, 'Snapshot'),
      ),
      el('h2', null, detail.name, ' ', el('code', { class: 'kpi-code' }, detail.code)),
      el(
        'p',
        { class: 'muted' },
        `${detail.dimension} › ${detail.subDimension} › ${detail.category} · ${detail.level} · obtained: ${detail.obtained} · unit: ${detail.unit}`,
      ),
      el(
        'div',
        { class: 'kpi-head-facts' },
        el(
          'div',
          { class: 'fact', 'data-testid': 'kpi-band' },
          el('h3', null, 'Band'),
          score
            ? el(
                'span',
                { class: `chip ${bandClass(score.points)}` },
                `${score.band} · ${number(score.percentOfTarget, 0)} % of target`,
              )
            : el('span', { class: 'muted' }, 'not scored'),
        ),
        el(
          'div',
          { class: 'fact', 'data-testid': 'kpi-target' },
          el('h3', null, 'Target'),
          typeof detail.target === 'number'
            ? `${number(detail.target, 2)} ${detail.unit}`
            : el('span', { class: 'muted' }, 'none'),
          el(
            'div',
            { class: 'muted small' },
            `better when ${detail.betterWhen}${def.betterWhenNote ? ` (${def.betterWhenNote})` : ''}`,
          ),
        ),
        el(
          'div',
          { class: 'fact' },
          el('h3', null, 'Trend'),
          detail.trend?.monthOverMonth === null || detail.trend?.monthOverMonth === undefined
            ? el('span', { class: 'muted' }, 'needs two closed months')
            : `${detail.trend.monthOverMonth > 0 ? '+' : ''}${number(detail.trend.monthOverMonth, 1)} % month over month`,
        ),
      ),
      def.definition ? el('p', { class: 'kpi-definition' }, def.definition) : null,
    ];
    head.replaceChildren(...parts.filter((p) => p !== null));
  }

  /**
   * @param {Array<{ name: string, period: string | null, value: Promise<ValueLike | null> | ValueLike | null }>} rows
   * @param {string} code
   * @param {string | null} selected
   */
  function renderPeriods(rows, code, selected) {
    const body = el('tbody');
    for (const row of rows) {
      if (row.period === null) continue;
      const cells = {
        value: el('td', { class: 'num value' }, '…'),
        status: el('td'),
        completeness: el('td', { class: 'num' }),
        source: el('td'),
      };
      const tr = el(
        'tr',
        { 'data-period': row.period, class: row.period === selected ? 'selected' : null },
        el('th', { scope: 'row' }, row.name, el('div', { class: 'muted small' }, periodName(row.period))),
        cells.value,
        cells.status,
        cells.completeness,
        cells.source,
        el(
          'td',
          null,
          el(
            'a',
            {
              href: `${kpiHref({ code, compactCode: code })}/${row.period}`,
              'data-action': 'explain-period',
            },
            'Explain ›',
          ),
        ),
      );
      body.append(tr);
      Promise.resolve(row.value).then(
        (v) => {
          const has = v && typeof v.value === 'number';
          cells.value.textContent = has ? `${number(v.value, 2)} ${v.unit}` : 'NR';
          cells.status.replaceChildren(
            v?.status ? el('span', { class: statusClass(v.status) }, statusText(v.status)) : '',
          );
          cells.completeness.textContent = v ? pct(v.completeness) : '–';
          cells.source.replaceChildren(sourceChip(v?.source) ?? '');
          if (v?.dataPoints && v.dataPoints.length > 1)
            cells.value.append(
              el(
                'div',
                { class: 'muted small' },
                // A pollutant's own status where it is not the headline's (none measures it, too few readings).
                v.dataPoints
                  .map((d) => {
                    const own = d.status && d.status !== v.status ? ` (${statusText(d.status)})` : '';
                    return `${d.name} ${number(d.value, 1)}${own}`;
                  })
                  .join(' · '),
              ),
            );
        },
        () => {
          cells.value.textContent = 'unavailable';
        },
      );
    }
    periods.replaceChildren(
      el('h2', null, 'Value per period'),
      el(
        'div',
        { class: 'table-wrap' },
        el(
          'table',
          { class: 'table period-table' },
          el(
            'thead',
            null,
            el(
              'tr',
              null,
              el('th', null, 'Period'),
              el('th', { class: 'num' }, 'Value'),
              el('th', null, 'Status'),
              el('th', { class: 'num' }, 'Completeness'),
              el('th', null, 'Source'),
              el('th'),
            ),
          ),
          body,
        ),
      ),
      el(
        'p',
        { class: 'muted small' },
        'Calendar periods in the city’s time zone. A running period (to date) is never final.',
      ),
    );
  }

  /** @param {any} detail @param {ValueLike | null} mtd */
  function renderHistory(detail, mtd) {
    const months = detail.closed
      .filter((/** @type {{ period: string }} */ c) => /^\d{4}-\d{2}$/.test(c.period))
      .sort((/** @type {{ period: string }} */ a, /** @type {{ period: string }} */ b) =>
        a.period.localeCompare(b.period),
      )
      .slice(-24)
      .map((/** @type {any} */ c) => {
        const e = c.entries[0] ?? {};
        return {
          period: c.period,
          value: e.value ?? null,
          version: c.version,
          points: e.points ?? null,
          status: e.status ?? '',
        };
      });
    const running = mtd?.period;
    if (mtd && running)
      months.push({
        period: running.slice(0, 7),
        value: mtd.value,
        version: 0,
        points: detail.score?.points ?? null,
        status: mtd.status,
        running: true,
      });
    const restated = months.filter((/** @type {{ version: number }} */ m) => m.version > 1);
    const notes = el('ul', { class: 'restatements', 'data-testid': 'restatements' });
    history.replaceChildren(
      el(
        'h2',
        null,
        'History',
        el('span', { class: 'muted small' }, ' · closed months, newest version; hollow: this month so far'),
      ),
      drawHistory(months, {
        unit: detail.unit,
        target: typeof detail.target === 'number' ? detail.target : null,
      }),
      restated.length > 0
        ? el('h4', null, 'Restated months')
        : el('p', { class: 'muted small' }, 'No month of this KPI has been restated.'),
      notes,
    );
    for (const m of restated) {
      const li = el(
        'li',
        { 'data-period': m.period },
        el('strong', null, periodName(m.period)),
        ` · version ${m.version}`,
      );
      notes.append(li);
      apiOptional(`/api/rollups/${m.period}/restatements`).then((r) => {
        const mine = (r?.restatements ?? []).filter(
          (/** @type {{ code: string }} */ x) => x.code === detail.code,
        );
        for (const x of mine)
          li.append(
            el(
              'div',
              { class: 'muted small' },
              `v${x.version}: ${number(x.oldValue, 2)} → ${number(x.newValue, 2)} · ${x.cause}`,
            ),
          );
      });
    }
  }

  /** @param {string} period @param {any} def @param {string} code */
  async function renderExplain(period, def, code) {
    explain.replaceChildren(el('h2', null, 'Explain this number'), el('p', { class: 'muted' }, 'Loading…'));
    /** @type {LineageAnswer} */
    const answer = await api(
      `/api/kpis/${encodeURIComponent(code)}/lineage?period=${encodeURIComponent(period)}`,
    );
    if (gone) return;
    explain.replaceChildren(
      el(
        'h2',
        null,
        'Explain this number',
        el('span', { class: 'muted small' }, ` · ${periodName(answer.period)}`),
      ),
      explainSection(answer, { formula: def.formula, definition: def.definition, unit: def.unit }),
    );
    const ids = new Set(answer.lineage?.devices ?? []);
    const box = el('div', { class: 'map kpi-map', 'data-testid': 'kpi-map' });
    mapCard.replaceChildren(
      el(
        'div',
        { class: 'card-head' },
        el('h2', null, 'Devices on the map'),
        el(
          'span',
          { class: 'muted small' },
          `${ids.size} device${ids.size === 1 ? '' : 's'} behind this value`,
        ),
      ),
      ids.size > 0 ? box : el('p', { class: 'empty' }, 'No device feeds this value.'),
    );
    if (ids.size > 0) {
      map = createDistrictMap(box, {
        only: ids,
        onDeviceClick: (/** @type {{ id: string }} */ d) =>
          (location.hash = `#/series/device/${encodeURIComponent(d.id)}`),
      });
      const info = map.update(new Set());
      if (info.unlocated > 0)
        mapCard
          .querySelector('.card-head')
          ?.append(el('span', { class: 'muted small' }, `${info.unlocated} without location not shown`));
      requestAnimationFrame(() => {
        if (!gone) map?.invalidate();
      });
    }
  }

  return {
    /** @param {Set<string>} topics */
    update(topics) {
      if (map && topics.has('devices')) map.update(new Set());
    },
    destroy() {
      gone = true;
      window.removeEventListener('resize', onResize);
      map?.destroy();
    },
  };
}
