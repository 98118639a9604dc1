// Live charts of any series: a device, a district or the city; minute, hour or day buckets (uPlot). The
// chart loads the roll-ups once, then folds each live value into its bucket: it follows without reloading.
// URL: #/series/{city|district|device}/{key}/{metric}/{step}

import uPlot from '/vendor/uplot/uPlot.esm.js';
import { api } from '../api.js';
import { el, number } from '../dom.js';
import { onLatest, state } from '../live.js';

const STEP_MS = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };
const RANGE_MS = { minute: 3 * 3_600_000, hour: 7 * 86_400_000, day: 90 * 86_400_000 };

function metricsOf(kindIds) {
  const out = new Map();
  for (const id of kindIds)
    for (const m of state.kinds.get(id)?.metrics || []) if (!out.has(m.name)) out.set(m.name, m);
  return out;
}

export function seriesView(root, args) {
  const [scopeArg = 'city', keyArg = '', metricArg = '', stepArg = 'minute'] = args.map((a) =>
    decodeURIComponent(a),
  );
  const scope = el(
    'select',
    { 'aria-label': 'Scope' },
    ...['city', 'district', 'device'].map((s) => el('option', { value: s }, s)),
  );
  const key = el('select', { 'aria-label': 'District or device' });
  const metric = el('select', { 'aria-label': 'Metric', 'data-testid': 'series-metric' });
  const step = el(
    'select',
    { 'aria-label': 'Step' },
    ...Object.keys(STEP_MS).map((s) => el('option', { value: s }, s)),
  );
  const title = el('h2');
  const summary = el('p', { class: 'muted' });
  const chartBox = el('div', { class: 'series-chart', 'data-testid': 'series-chart' });
  scope.value = scopeArg;
  step.value = STEP_MS[stepArg] ? stepArg : 'minute';

  root.append(
    el(
      'section',
      { class: 'card' },
      el('div', { class: 'card-head' }, title, el('div', { class: 'filters' }, scope, key, metric, step)),
      summary,
      chartBox,
    ),
  );

  function fillKeys() {
    const devices = [...state.devices.values()];
    if (scope.value === 'city') {
      key.hidden = true;
      key.replaceChildren(el('option', { value: '' }, 'city'));
    } else if (scope.value === 'district') {
      key.hidden = false;
      key.replaceChildren(
        ...[...new Set(devices.map((d) => d.district))].sort().map((d) => el('option', { value: d }, d)),
      );
    } else {
      key.hidden = false;
      key.replaceChildren(
        ...devices
          .sort((a, b) => a.name.localeCompare(b.name))
          .slice(0, 2000)
          .map((d) => el('option', { value: d.id }, `${d.name} (${d.id})`)),
      );
    }
  }
  function fillMetrics() {
    const devices = [...state.devices.values()];
    const kinds =
      scope.value === 'city'
        ? new Set(devices.map((d) => d.kind))
        : scope.value === 'district'
          ? new Set(devices.filter((d) => d.district === key.value).map((d) => d.kind))
          : new Set([state.devices.get(key.value)?.kind].filter(Boolean));
    const metrics = metricsOf(kinds);
    const previous = metric.value;
    metric.replaceChildren(
      ...[...metrics.values()].map((m) => el('option', { value: m.name }, `${m.name} (${m.unit})`)),
    );
    if (metrics.has(previous)) metric.value = previous;
  }
  fillKeys();
  if (keyArg) key.value = keyArg;
  fillMetrics();
  if (metricArg) metric.value = metricArg;

  let chart = null;
  let data = [[], [], [], []];
  let counts = [];
  let unit = '';

  const navigate = () => {
    location.hash = `#/series/${scope.value}/${encodeURIComponent(key.value || '-')}/${metric.value}/${step.value}`;
  };
  scope.addEventListener('change', () => {
    fillKeys();
    fillMetrics();
    navigate();
  });
  key.addEventListener('change', () => {
    fillMetrics();
    navigate();
  });
  metric.addEventListener('change', navigate);
  step.addEventListener('change', navigate);

  async function load() {
    if (!metric.value) {
      summary.textContent = 'No metric reported in this scope yet.';
      return;
    }
    const to = Date.now() + STEP_MS[step.value];
    const from = to - RANGE_MS[step.value];
    const params = new URLSearchParams({
      metric: metric.value,
      step: step.value,
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
    });
    if (scope.value === 'city') params.set('city', 'true');
    else params.set(scope.value, key.value);
    const res = await api(`/api/series?${params}`);
    unit = res.unit;
    title.textContent = `${metric.value} · ${scope.value === 'city' ? state.hello?.cityName || 'city' : state.devices.get(key.value)?.name || key.value} · per ${step.value}`;
    data = [
      res.points.map((p) => Date.parse(p.t) / 1000),
      res.points.map((p) => p.mean),
      res.points.map((p) => p.min),
      res.points.map((p) => p.max),
    ];
    counts = res.points.map((p) => p.count);
    draw();
  }

  function draw() {
    const last = data[1].length ? data[1][data[1].length - 1] : null;
    summary.textContent =
      last === null
        ? 'No data in this range yet; waiting for live values…'
        : `latest bucket mean ${number(last, 2)} ${unit} · ${data[0].length} buckets`;
    const width = chartBox.clientWidth || 800;
    if (!chart) {
      const axis = { stroke: '#8b96a8', grid: { stroke: '#1f2a3d' }, ticks: { stroke: '#1f2a3d' } };
      chart = new uPlot(
        {
          width,
          height: Math.max(260, Math.min(520, window.innerHeight - 300)),
          // The requested window, sliding with the clock: a single live bucket still sits where it belongs.
          scales: {
            x: {
              time: true,
              range: () => [
                (Date.now() - RANGE_MS[step.value]) / 1000,
                (Date.now() + STEP_MS[step.value]) / 1000,
              ],
            },
          },
          axes: [axis, { ...axis, size: 60, label: unit, labelSize: 20 }],
          series: [
            {},
            {
              label: 'mean',
              stroke: '#4cc9f0',
              width: 2,
              points: { show: (u) => u.data[0].length < 60, size: 7, fill: '#4cc9f0' },
            },
            {
              label: 'min',
              stroke: 'rgba(144,190,109,0.7)',
              width: 1,
              dash: [4, 4],
              points: { show: false },
            },
            { label: 'max', stroke: 'rgba(244,162,97,0.8)', width: 1, dash: [4, 4], points: { show: false } },
          ],
        },
        data,
        chartBox,
      );
    } else chart.setData(data);
  }

  function inScope(item) {
    if (item.metric !== metric.value) return false;
    if (scope.value === 'city') return true;
    if (scope.value === 'district') return item.district === key.value;
    return item.deviceId === key.value;
  }

  // Bucket starts are the city's calendar (the API's), so a live value joins the last bucket when it falls
  // within one step of it, and opens a new one otherwise.
  const stopLive = onLatest((items) => {
    let changed = false;
    for (const item of items) {
      if (!inScope(item)) continue;
      const t = item.ts / 1000;
      const stepS = STEP_MS[step.value] / 1000;
      const n = data[0].length;
      const lastT = n ? data[0][n - 1] : null;
      if (lastT !== null && t >= lastT && t < lastT + stepS) {
        const c = counts[n - 1];
        data[1][n - 1] = (data[1][n - 1] * c + item.value) / (c + 1);
        data[2][n - 1] = Math.min(data[2][n - 1], item.value);
        data[3][n - 1] = Math.max(data[3][n - 1], item.value);
        counts[n - 1] = c + 1;
      } else if (lastT === null || t >= lastT + stepS) {
        const start =
          lastT === null ? Math.floor(t / stepS) * stepS : lastT + Math.floor((t - lastT) / stepS) * stepS;
        data[0].push(start);
        data[1].push(item.value);
        data[2].push(item.value);
        data[3].push(item.value);
        counts.push(1);
      } else continue;
      changed = true;
    }
    if (changed) {
      data = data.map((a) => a.slice());
      draw();
    }
  });

  const resize = () => chart?.setSize({ width: chartBox.clientWidth, height: chart.height });
  window.addEventListener('resize', resize);
  load().catch((err) => {
    summary.textContent = `Cannot load: ${err.message}`;
  });
  return {
    destroy() {
      stopLive();
      window.removeEventListener('resize', resize);
      chart?.destroy();
    },
  };
}
