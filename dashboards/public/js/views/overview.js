// @ts-check
// Overview: KPI tiles, the district map, ingest health and the active alerts: the wall view.

import uPlot from '/vendor/uplot/uPlot.esm.js';
import { can } from '../api.js';
import { axisLabels } from '../city-time.js';
import { cityZone, compact, el, number, relativeTime } from '../dom.js';
import { createKpiTiles } from '../kpi-tiles.js';
import { state } from '../live.js';
import { createDistrictMap, deviceState, STATE_COLOURS } from '../map.js';
import { createTileChooser } from '../tile-chooser.js';
import { alertRow, toMs } from './alerts.js';

/** @param {HTMLElement} root */
export function overviewView(root) {
  const tilesBox = el('div', { class: 'kpi-grid', 'data-testid': 'kpi-tiles' });
  const mapBox = el('div', { class: 'map', 'data-testid': 'district-map' });
  const legend = el('div', { class: 'legend' });
  const mapNote = el('span', { class: 'muted small' });
  const health = {
    accepted: el('span', { class: 'big', 'data-testid': 'accepted-rate' }, '–'),
    refused: el('span', { class: 'big' }, '–'),
    backlog: el('span', { class: 'big' }, '–'),
    latency: el('span', { class: 'big' }, '–'),
    devices: el('span', { class: 'big', 'data-testid': 'devices-online' }, '–'),
    acceptedTotal: el('small', null),
    refusedTotal: el('small', null),
    store: el('small', null),
    latencyP99: el('small', null),
    devicesTotal: el('small', null),
  };
  const reasons = el('div', { class: 'reasons' });
  const chartBox = el('div', { class: 'rate-chart' });
  const alertList = el('ul', { class: 'alert-list', 'data-testid': 'overview-alerts' });
  const latestList = el('ul', { class: 'latest-list', 'data-testid': 'latest-readings' });

  for (const s of Object.keys(STATE_COLOURS))
    legend.append(el('span', { class: 'legend-item' }, el('i', { class: `swatch swatch-${s}` }), s));

  /** @param {string} label @param {HTMLElement} big @param {HTMLElement} small @param {string} [unit] */
  const stat = (label, big, small, unit) =>
    el(
      'div',
      { class: 'stat' },
      el('h3', null, label),
      el('p', null, big, unit ? el('span', { class: 'unit' }, unit) : null),
      small,
    );

  const kpiCard = el(
    'section',
    { class: 'card kpis' },
    el(
      'div',
      { class: 'card-head' },
      el('h2', null, 'City KPIs ', el('span', { class: 'muted small' }, 'month to date')),
      // only an admin chooses the tiles (the API refuses anyone else too)
      can('admin')
        ? el(
            'button',
            { type: 'button', class: 'ghost', 'data-action': 'choose-tiles', onclick: () => toggleChooser() },
            'Choose tiles',
          )
        : null,
    ),
    tilesBox,
  );
  /** @type {HTMLElement | null} */
  let chooser = null;
  function toggleChooser() {
    if (chooser) {
      chooser.remove();
      chooser = null;
      return;
    }
    chooser = createTileChooser({ onClose: () => toggleChooser() });
    kpiCard.append(chooser);
  }

  root.append(
    kpiCard,
    el(
      'div',
      { class: 'overview-grid' },
      el(
        'section',
        { class: 'card map-card' },
        el('div', { class: 'card-head' }, el('h2', null, 'Districts'), mapNote),
        mapBox,
        legend,
      ),
      el(
        'div',
        { class: 'side' },
        el(
          'section',
          { class: 'card ingest', 'data-testid': 'ingest-health' },
          el('h2', null, 'Ingest health'),
          el(
            'div',
            { class: 'stats' },
            stat('Accepted', health.accepted, health.acceptedTotal, '/s'),
            stat('Refused', health.refused, health.refusedTotal, '/s'),
            stat('Backlog', health.backlog, health.store, 'values'),
            stat('Store p50', health.latency, health.latencyP99, 'ms'),
            stat('Devices online', health.devices, health.devicesTotal),
          ),
          chartBox,
          reasons,
        ),
        el('section', { class: 'card' }, el('h2', null, 'Active alerts'), alertList),
        el('section', { class: 'card' }, el('h2', null, 'Latest readings'), latestList),
      ),
    ),
  );

  const tiles = createKpiTiles(tilesBox);
  const map = createDistrictMap(mapBox, {
    onDeviceClick: (d) => (location.hash = `#/series/device/${encodeURIComponent(d.id)}`),
  });
  /** @type {uPlot | null} */
  let chart = null;
  const resize = () => {
    map.invalidate();
    chart?.setSize({ width: chartBox.clientWidth, height: 110 });
  };
  window.addEventListener('resize', resize);
  requestAnimationFrame(resize);

  // Up to five minutes ending now, at least one: a page opened a moment ago still shows a readable line.
  /** @returns {[number, number]} */
  const rateWindow = () => {
    const now = Date.now() / 1000;
    const first = state.history.t[0] ?? now;
    return [Math.max(now - 300, Math.min(first, now - 60)), now];
  };

  function drawChart() {
    const h = state.history;
    const data = /** @type {import("uplot").AlignedData} */ ([h.t, h.accepted, h.refused]);
    if (!chart) {
      if (chartBox.clientWidth === 0 || h.t.length < 2) return;
      chart = new uPlot(
        {
          width: chartBox.clientWidth,
          height: 110,
          legend: { show: false },
          cursor: { show: false },
          scales: {
            x: { time: true, range: rateWindow },
            y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.15)] },
          },
          // Ticks on the city's clock, labelled on 24 hours like the rest of the page.
          tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), cityZone()),
          axes: [
            {
              stroke: '#8b96a8',
              grid: { stroke: '#1f2a3d' },
              ticks: { stroke: '#1f2a3d' },
              size: 40,
              values: (_u, ticks) => {
                const labels = axisLabels(
                  ticks.map((t) => t * 1000),
                  cityZone(),
                );
                chartBox.dataset.xLabels = labels.join('|');
                return labels;
              },
            },
            { stroke: '#8b96a8', grid: { stroke: '#1f2a3d' }, ticks: { stroke: '#1f2a3d' }, size: 50 },
          ],
          series: [
            {},
            { label: 'accepted/s', stroke: '#3ddc84', width: 2, fill: 'rgba(61,220,132,0.12)' },
            { label: 'refused/s', stroke: '#ff4d5e', width: 2 },
          ],
        },
        data,
        chartBox,
      );
    } else chart.setData(data);
  }

  function renderHealth() {
    // the whole ingest statistics as the server sends them (store health and latency beside the counts)
    const s = /** @type {any} */ (state.stats);
    if (!s) return;
    health.accepted.textContent = number(s.rates?.acceptedPerSec);
    health.refused.textContent = number(s.rates?.refusedPerSec);
    health.acceptedTotal.textContent = `${compact(s.accepted?.values)} values since start`;
    health.refusedTotal.textContent = `${compact(s.refused?.total)} since start`;
    health.backlog.textContent = compact(typeof s.backlog === 'number' ? s.backlog : 0);
    health.store.textContent = s.store
      ? s.store.ok
        ? 'store healthy'
        : `store: ${s.store.detail || 'unhealthy'}`
      : '';
    health.store.className = s.store && !s.store.ok ? 'bad' : '';
    health.latency.textContent = number(s.storeLatencyMs?.p50, 1);
    health.latencyP99.textContent = s.storeLatencyMs ? `p99 ${number(s.storeLatencyMs.p99, 1)} ms` : '';
    const byReason = s.refused?.byReason || {};
    const codes = Object.keys(byReason)
      .sort((a, b) => byReason[b] - byReason[a])
      .slice(0, 6);
    const max = Math.max(1, ...codes.map((c) => byReason[c]));
    reasons.replaceChildren(
      ...(codes.length === 0
        ? [el('p', { class: 'muted small' }, 'No refused messages.')]
        : codes.map((code) =>
            el(
              'div',
              { class: 'reason' },
              el('code', null, code),
              el(
                'span',
                { class: 'bar' },
                el('i', { style: undefined, 'data-w': Math.round((byReason[code] / max) * 100) }),
              ),
              el('span', { class: 'num' }, compact(byReason[code])),
              state.refusedRecent[code]
                ? el('span', { class: 'recent' }, `+${state.refusedRecent[code]}`)
                : null,
            ),
          )),
    );
    // Bar widths via CSSOM (the CSP forbids inline style attributes).
    for (const bar of /** @type {NodeListOf<HTMLElement>} */ (reasons.querySelectorAll('[data-w]')))
      bar.style.width = `${bar.dataset.w}%`;
    drawChart();
  }

  function renderDevices() {
    let online = 0;
    for (const d of state.devices.values()) if (d.online) online++;
    health.devices.textContent = number(online, 0);
    health.devicesTotal.textContent = `of ${number(state.devices.size, 0)} registered`;
  }

  function renderAlerts() {
    const active = [...state.alerts.values()]
      .filter((a) => a.state !== 'cleared')
      .sort((a, b) => (toMs(b.openedAt) ?? 0) - (toMs(a.openedAt) ?? 0));
    alertList.replaceChildren(
      ...(active.length === 0
        ? [el('li', { class: 'muted' }, 'No active alerts.')]
        : active.slice(0, 8).map((a) => alertRow(a, { compact: true }))),
    );
  }

  function renderLatest() {
    const rows = [];
    for (const [deviceId, metrics] of state.latest) {
      for (const [metric, v] of metrics) rows.push({ deviceId, metric, ...v });
    }
    rows.sort((a, b) => b.ts - a.ts);
    latestList.replaceChildren(
      ...(rows.length === 0
        ? [el('li', { class: 'muted' }, 'Waiting for readings…')]
        : rows.slice(0, 8).map((r) => {
            const d = state.devices.get(r.deviceId);
            return el(
              'li',
              { 'data-device': r.deviceId, 'data-metric': r.metric },
              el('span', { class: `dot dot-${d ? deviceState(d) : 'ok'}` }),
              el('span', { class: 'who' }, d?.name || r.deviceId),
              el('span', { class: 'metric' }, r.metric),
              el('span', { class: 'value' }, number(r.value, 2)),
              el('span', { class: 'unit' }, r.unit || ''),
              el('span', { class: 'muted small' }, relativeTime(r.ts)),
            );
          })),
    );
  }

  function alertSubjects() {
    const set = new Set();
    for (const a of state.alerts.values())
      if (a.state !== 'cleared' && a.subjectKind === 'device') set.add(a.subject);
    return set;
  }

  let lastMap = 0;
  return {
    /** @param {Set<string>} topics */
    update(topics) {
      if (topics.has('kpis')) tiles.update();
      if (topics.has('stats')) renderHealth();
      // Device states also age without events (a device falls silent): repaint the map every few seconds.
      const aged = topics.has('stats') && Date.now() - lastMap > 5_000;
      if (aged || topics.has('devices') || topics.has('latest') || topics.has('alerts')) {
        lastMap = Date.now();
        const info = map.update(alertSubjects());
        mapNote.textContent =
          info.mode === 'schematic'
            ? 'schematic layout (devices without location)'
            : info.unlocated
              ? `${info.unlocated} device${info.unlocated === 1 ? '' : 's'} without location not shown`
              : '';
        renderDevices();
      }
      if (topics.has('alerts')) renderAlerts();
      if (topics.has('latest')) renderLatest();
    },
    destroy() {
      window.removeEventListener('resize', resize);
      chart?.destroy();
      map.destroy();
    },
  };
}
