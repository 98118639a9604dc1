// @ts-check
// Series over time: devices, districts, or the city per device kind; one line each (mean, min and max for a
// single one). The chart loads the roll-ups once, then folds each live value into its bucket while the
// range reaches now. A metric several kinds report with different meanings (energy of customer meters,
// feeders, generation) is drawn per kind: the API refuses to average unlike meters together.
// URL: #/series/{device|district|city}/{keys, comma-separated}/{metric}/{range}[/{kind}], where keys are
// device ids, districts or (city) kinds, and range a preset id or "from~to" in city wall time.

import uPlot from '/vendor/uplot/uPlot.esm.js';
import { api } from '../api.js';
import { axisLabels, formatWall, parseWall } from '../city-time.js';
import { cityZone, el, number } from '../dom.js';
import { failure, saveFile } from '../files.js';
import { onLatest, state } from '../live.js';
import { seriesCsv } from '../series/csv.js';
import { customToken, isPreset, PRESETS, resolveRange, STEP_MS } from '../series/range.js';
import { foldLive, keyOptions, kindsFor, metricsOf } from '../series/scope.js';

/** @typedef {import('../series/scope.js').Scope} Scope */
/** @typedef {import('../series/scope.js').Line} Line */

const COLOURS = ['#4cc9f0', '#f4a261', '#90be6d', '#e76f51', '#c77dff', '#ffd166', '#06d6a0', '#ef476f'];
const MAX_LINES = COLOURS.length;

/** @param {HTMLElement} root @param {string[]} args */
export function seriesView(root, args) {
  const [scopeArg = 'city', keysArg = '', metricArg = '', rangeArg = '24h', kindArg = ''] = args.map((a) =>
    decodeURIComponent(a),
  );
  const zone = cityZone();
  const scope = el(
    'select',
    { 'aria-label': 'Scope', 'data-testid': 'series-scope' },
    ...['device', 'district', 'city'].map((s) => el('option', { value: s }, s)),
  );
  const metric = el('select', { 'aria-label': 'Metric', 'data-testid': 'series-metric' });
  const keys = el('select', {
    'aria-label': 'Devices, districts or kinds to compare',
    'data-testid': 'series-keys',
    multiple: true,
    size: 4,
  });
  const kind = el('select', { 'aria-label': 'Device kind', 'data-testid': 'series-kind', hidden: true });
  const preset = el(
    'select',
    { 'aria-label': 'Range', 'data-testid': 'series-range' },
    ...PRESETS.map(([id, label]) => el('option', { value: id }, label)),
    el('option', { value: 'custom' }, 'custom…'),
  );
  const fromInput = el('input', {
    'aria-label': 'From',
    name: 'from',
    placeholder: 'YYYY-MM-DD HH:mm',
    size: 16,
  });
  const toInput = el('input', { 'aria-label': 'To', name: 'to', placeholder: 'YYYY-MM-DD HH:mm', size: 16 });
  const custom = el(
    'form',
    { class: 'inline-form', 'data-testid': 'series-custom', hidden: true },
    el('label', null, 'from', fromInput),
    el('label', null, 'to', toInput),
    el('span', { class: 'muted' }, zone),
    el('button', { type: 'submit' }, 'Show'),
  );
  const exportButton = el(
    'button',
    { type: 'button', class: 'ghost', 'data-testid': 'series-export' },
    'Export CSV',
  );
  const title = el('h2');
  const stepBadge = el('span', { class: 'chip', 'data-testid': 'series-step' });
  const summary = el('p', { class: 'muted', 'data-testid': 'series-summary' });
  const error = el('p', { class: 'error', role: 'alert' });
  const chartBox = el('div', { class: 'series-chart', 'data-testid': 'series-chart' });

  root.append(
    el(
      'section',
      { class: 'card' },
      el('div', { class: 'card-head' }, title, el('div', { class: 'filters' }, scope, metric, kind, keys)),
      el('div', { class: 'filters' }, preset, custom, stepBadge, exportButton),
      summary,
      error,
      chartBox,
    ),
  );

  scope.value = ['device', 'district', 'city'].includes(scopeArg) ? scopeArg : 'city';
  const range = resolveRange(rangeArg, Date.now(), zone);
  preset.value = isPreset(range.token) ? range.token : 'custom';
  custom.hidden = preset.value !== 'custom';
  fromInput.value = formatWall(range.from, zone);
  toInput.value = formatWall(range.to, zone);
  stepBadge.textContent = `per ${range.step}`;

  /** The scope, metric and selection the controls show now. @returns {Scope} */
  const current = () => ({
    scope: /** @type {Scope['scope']} */ (scope.value),
    metric: metric.value,
    keys: [...keys.selectedOptions].map((o) => o.value),
    kind: kind.hidden ? '' : kind.value,
  });

  /** @param {string[]} wanted */
  function fill(wanted) {
    const metrics = metricsOf(scope.value, wanted);
    const previous = metric.value || metricArg;
    metric.replaceChildren(
      ...[...metrics.values()].map((m) => el('option', { value: m.name }, `${m.name} (${m.unit})`)),
    );
    if (metrics.has(previous)) metric.value = previous;
    const options = keyOptions(scope.value, metric.value);
    keys.replaceChildren(...options.map(([value, label]) => el('option', { value }, label)));
    const known = wanted.filter((k) => options.some(([v]) => v === k));
    const chosen =
      known.length > 0 ? known : scope.value === 'city' ? options.map(([v]) => v) : [options[0]?.[0]];
    for (const o of keys.options) o.selected = chosen.includes(o.value);
    // In a district a metric kinds mean differently needs one kind: one line per district of that kind.
    const unlike = scope.value === 'district' ? kindsFor(metric.value, chosen) : [];
    kind.hidden = unlike.length < 2;
    kind.replaceChildren(...unlike.map((k) => el('option', { value: k }, state.kinds.get(k)?.name ?? k)));
    if (unlike.includes(kindArg)) kind.value = kindArg;
  }
  fill(keysArg ? keysArg.split(',').map(decodeURIComponent) : []);

  /** @param {string} rangeToken */
  const navigate = (rangeToken = range.token) => {
    const s = current();
    const parts = [
      s.scope,
      s.keys.map(encodeURIComponent).join(',') || '-',
      s.metric,
      rangeToken,
      ...(s.kind ? [s.kind] : []),
    ];
    location.hash = `#/series/${parts.map(encodeURIComponent).join('/')}`;
  };
  scope.addEventListener('change', () => {
    metric.value = '';
    fill([]);
    navigate();
  });
  metric.addEventListener('change', () => {
    fill(current().keys);
    navigate();
  });
  keys.addEventListener('change', () => navigate());
  kind.addEventListener('change', () => navigate());
  preset.addEventListener('change', () => {
    if (preset.value === 'custom') {
      custom.hidden = false;
      fromInput.focus();
    } else navigate(preset.value);
  });
  custom.addEventListener('submit', (event) => {
    event.preventDefault();
    const from = parseWall(fromInput.value, zone);
    const to = parseWall(toInput.value, zone);
    if (from === null || to === null) {
      error.textContent = 'Give from and to as YYYY-MM-DD HH:mm (24-hour clock, city time).';
      return;
    }
    if (to <= from) {
      error.textContent = 'To must be after from.';
      return;
    }
    navigate(customToken(from, to, zone));
  });

  /** @type {uPlot | null} */
  let chart = null;
  /** @type {Line[]} */
  let lines = [];
  let unit = '';
  /** @type {uPlot.AlignedData} */
  let aligned = [[]];
  let chartShape = '';

  /** @param {Scope} s @param {string} key */
  function lineName(s, key) {
    if (s.scope === 'device') {
      const d = state.devices.get(key);
      return d ? `${d.name} (${d.id})` : key;
    }
    if (s.scope === 'city')
      return `${state.hello?.cityName || 'city'} · ${state.kinds.get(key)?.name ?? key}`;
    return s.kind ? `${key} · ${state.kinds.get(s.kind)?.name ?? s.kind}` : key;
  }

  async function load() {
    const s = current();
    if (!s.metric || s.keys.length === 0) {
      summary.textContent = 'No metric reported in this scope yet.';
      return;
    }
    // A district without a device of the chosen kind has no such line (the API would refuse it).
    const withKind = s.kind
      ? s.keys.filter((k) => [...state.devices.values()].some((d) => d.district === k && d.kind === s.kind))
      : s.keys;
    const notes = s.keys
      .filter((k) => !withKind.includes(k))
      .map((k) => `${k} has no ${state.kinds.get(s.kind)?.name ?? s.kind}.`);
    if (withKind.length > MAX_LINES)
      notes.push(`Compare at most ${MAX_LINES} at once; the first ${MAX_LINES} are drawn.`);
    error.textContent = notes.join(' ');
    const chosen = withKind.slice(0, MAX_LINES);
    title.textContent = `${s.metric} · ${chosen.length === 1 ? lineName(s, chosen[0] ?? '') : `${chosen.length} ${s.scope === 'city' ? 'kinds' : `${s.scope}s`}`}`;
    const answers = await Promise.all(
      chosen.map((key) => {
        const params = new URLSearchParams({
          metric: s.metric,
          step: range.step,
          from: new Date(range.from).toISOString(),
          to: new Date(range.to).toISOString(),
        });
        if (s.scope === 'city') {
          params.set('city', 'true');
          params.set('kind', key);
        } else {
          params.set(s.scope, key);
          if (s.kind) params.set('kind', s.kind);
        }
        return api(`/api/series?${params}`);
      }),
    );
    unit = answers[0]?.unit ?? '';
    lines = answers.map((res, i) => {
      /** @type {Array<{ t: string, count: number, mean: number, min: number, max: number }>} */
      const points = res.points;
      const key = chosen[i] ?? '';
      return {
        key,
        name: lineName(s, key),
        t: points.map((p) => Date.parse(p.t) / 1000),
        mean: points.map((p) => p.mean),
        min: points.map((p) => p.min),
        max: points.map((p) => p.max),
        count: points.map((p) => p.count),
      };
    });
    draw();
  }

  /** The chart's series: mean, min and max of a single line, the mean of each when comparing. */
  function columns() {
    const single = lines.length === 1;
    return lines.flatMap((line, i) =>
      single
        ? [
            { line, stat: /** @type {const} */ ('mean'), colour: COLOURS[0] ?? '#4cc9f0', dash: undefined },
            { line, stat: /** @type {const} */ ('min'), colour: 'rgba(144,190,109,0.7)', dash: [4, 4] },
            { line, stat: /** @type {const} */ ('max'), colour: 'rgba(244,162,97,0.8)', dash: [4, 4] },
          ]
        : [
            {
              line,
              stat: /** @type {const} */ ('mean'),
              colour: COLOURS[i % COLOURS.length] ?? '#fff',
              dash: undefined,
            },
          ],
    );
  }

  function draw() {
    const cols = columns();
    aligned = uPlot.join(cols.map((c) => /** @type {uPlot.AlignedData} */ ([c.line.t, c.line[c.stat]])));
    const n = aligned[0].length;
    chartBox.dataset.points = String(n);
    const only = lines.length === 1 ? lines[0] : undefined;
    const last = only && only.mean.length > 0 ? only.mean[only.mean.length - 1] : null;
    stepBadge.textContent = `per ${range.step}`;
    summary.textContent =
      n === 0
        ? range.live
          ? 'No data in this range yet; waiting for live values…'
          : 'No data in this range.'
        : only
          ? `latest bucket mean ${number(last, 2)} ${unit} · ${n} buckets per ${range.step}`
          : `${lines.length} series · ${n} points per ${range.step} · ${unit}`;
    // A live value only changes the data: the chart (and the legend a user is reading) stays.
    const shape = cols.map((c) => `${c.line.key}\u0000${c.stat}`).join('\u0001');
    if (chart && shape === chartShape) {
      chart.setData(aligned);
      return;
    }
    chartShape = shape;
    chart?.destroy();
    const axis = { stroke: '#8b96a8', grid: { stroke: '#1f2a3d' }, ticks: { stroke: '#1f2a3d' } };
    chart = new uPlot(
      {
        width: chartBox.clientWidth || 800,
        height: Math.max(260, Math.min(520, window.innerHeight - 340)),
        // Ticks fall on the city's hours and days, whatever the browser's zone.
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), zone),
        scales: {
          x: {
            time: true,
            // A live range slides with the clock, so a single live bucket sits where it belongs.
            range: () => {
              const slide = range.live ? Date.now() + STEP_MS[range.step] - range.to : 0;
              return [(range.from + slide) / 1000, (range.to + slide) / 1000];
            },
          },
        },
        axes: [
          {
            ...axis,
            size: 50,
            values: (_u, ticks) => {
              const labels = axisLabels(
                ticks.map((t) => t * 1000),
                zone,
              );
              // What the canvas shows, readable by tests and assistive tools.
              chartBox.dataset.xLabels = labels.join('|');
              return labels;
            },
          },
          { ...axis, size: 60, label: unit, labelSize: 20 },
        ],
        series: [
          { label: `time (${zone})`, value: (_u, v) => (v === null ? '–' : formatWall(v * 1000, zone)) },
          ...cols.map((c) => ({
            label: lines.length === 1 ? c.stat : c.line.name,
            stroke: c.colour,
            width: c.stat === 'mean' ? 2 : 1,
            ...(c.dash ? { dash: c.dash } : {}),
            points: {
              show: c.stat === 'mean' ? (/** @type {uPlot} */ u) => u.data[0].length < 60 : false,
              size: 7,
              fill: c.colour,
            },
          })),
        ],
      },
      aligned,
      chartBox,
    );
  }

  exportButton.addEventListener('click', () => {
    const s = current();
    const csv = seriesCsv({
      metric: s.metric,
      unit,
      step: range.step,
      zone,
      columns: columns().map((c) => ({ name: c.line.name, stat: c.stat })),
      data: aligned,
    });
    const name = `${s.metric}-${s.scope}-${formatWall(range.from, zone).replace(/[ :]/g, '')}-per-${range.step}.csv`;
    saveFile(new Blob([csv], { type: 'text/csv' }), name);
  });

  const stopLive = onLatest((items) => {
    if (!range.live) return;
    if (foldLive(lines, current(), items, STEP_MS[range.step] / 1000)) draw();
  });

  const resize = () => chart?.setSize({ width: chartBox.clientWidth, height: chart.height });
  window.addEventListener('resize', resize);
  load().catch((err) => {
    summary.textContent = '';
    error.textContent = `Cannot load: ${failure(err)}`;
  });
  return {
    destroy() {
      stopLive();
      window.removeEventListener('resize', resize);
      chart?.destroy();
    },
  };
}
