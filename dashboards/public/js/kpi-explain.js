// @ts-check
// "Explain this number": what a KPI value is made of, from its lineage (GET /api/kpis/{code}/lineage):
// the formula in words and symbols and its version, the devices and series with their reading counts and
// completeness, the manual inputs and city-profile figures, registry counts and the engine's notes.

import { dateTime, el, number, statusClass, statusText } from './dom.js';
import { state } from './live.js';

/**
 * @typedef {{ scope: string, key: string, metric: string, readings: number, expected: number,
 *   firstTs: number | null, lastTs: number | null }} SeriesUse
 * @typedef {{ formulaVersion: string, formula: string, devices: string[], series: SeriesUse[],
 *   readings: number, timeRange: { from: string, to: string } | null,
 *   manualInputs: Array<{ name: string, value: number, unit: string, source: string, effectiveFrom?: string }>,
 *   registryCounts?: Record<string, number>, notes?: string[] }} Lineage
 * @typedef {{ value: number | null, unit: string, status: string, completeness: number | null, period?: string,
 *   source: string | null, dataQuality?: string | null, dataPoints?: Array<{ name: string, value: number | null, unit: string,
 *     status?: string, completeness?: number | null }>,
 *   dataPoint?: string | null }} ValueLike
 * @typedef {{ code: string, period: string, closed: boolean, version: number, value: number | null,
 *   status?: string, statusReason?: string, statusWhy?: string, captureThreshold?: number,
 *   closesAt?: string | null, view?: ValueLike, entries?: ValueLike[], lineage: Lineage | null }} LineageAnswer
 */

export const pct = (/** @type {number | null | undefined} */ x) =>
  typeof x === 'number' && Number.isFinite(x) ? `${number(x * 100, 1)} %` : '–';

/** The value of a lineage answer: the computed view of an open period, the frozen entry of a closed one. */
export function lineageValueOf(/** @type {LineageAnswer} */ answer) {
  return answer.view ?? answer.entries?.[0] ?? null;
}

/** Source of a value in words, manual values and overrides marked as such. @param {string | null | undefined} source */
export function sourceChip(source) {
  if (source === 'override')
    return el('span', { class: 'chip chip-manual', 'data-source': 'override' }, 'override (manual)');
  if (source === 'manual')
    return el('span', { class: 'chip chip-manual', 'data-source': 'manual' }, 'manual value');
  return source ? el('span', { class: 'chip chip-source', 'data-source': source }, source) : null;
}

/** @param {{ name: string, source: string }} input */
function inputKind(input) {
  if (input.source === 'city profile') return { cls: 'chip-source', text: 'city profile' };
  if (input.name.startsWith('override')) return { cls: 'chip-manual', text: 'override' };
  return { cls: 'chip-manual', text: 'manual input' };
}

/**
 * @param {LineageAnswer} answer
 * @param {{ formula?: string, definition?: string | null, unit: string }} def the catalogue entry
 */
export function explainSection(answer, def) {
  const lineage = answer.lineage;
  const v = lineageValueOf(answer);
  const status = answer.status ?? v?.status ?? null;
  const head = el(
    'div',
    { class: 'explain-status', 'data-testid': 'explain-status' },
    el(
      'span',
      { class: 'explain-value' },
      typeof answer.value === 'number'
        ? `${number(answer.value, 2)} ${v?.unit ?? def.unit}`
        : 'NR (not reported)',
    ),
    status ? el('span', { class: statusClass(status), 'data-status': status }, statusText(status)) : null,
    sourceChip(v?.source),
    answer.closed
      ? el('span', { class: 'muted small' }, `closed, version ${answer.version}`)
      : el('span', { class: 'muted small' }, 'open period, computed now'),
    answer.statusWhy
      ? el('p', { class: 'why' }, `Why ${status ? statusText(status) : ''}: ${answer.statusWhy}.`)
      : null,
  );
  if (lineage === null)
    return el('div', null, head, el('p', { class: 'empty' }, 'No lineage recorded for this value.'));

  const formula = el(
    'div',
    { class: 'explain-formula', 'data-testid': 'explain-formula' },
    el('h4', null, 'Formula'),
    el('p', null, lineage.formula),
    def.formula ? el('p', null, el('code', { class: 'formula-symbols' }, def.formula)) : null,
    def.definition ? el('p', { class: 'muted small' }, def.definition) : null,
    el('p', { class: 'muted small' }, `formula version ${lineage.formulaVersion}`),
  );

  const deviceSeries = lineage.series.filter((s) => s.scope === 'device');
  const withSeries = new Set(deviceSeries.map((s) => s.key));
  const registryOnly = lineage.devices.filter((id) => !withSeries.has(id));
  const deviceRow = (/** @type {string} */ id, /** @type {SeriesUse | null} */ s) => {
    const d = state.devices.get(id);
    const completeness = s && s.expected > 0 ? s.readings / s.expected : null;
    return el(
      'tr',
      { 'data-device': id, 'data-metric': s?.metric ?? null },
      el(
        'td',
        null,
        el(
          'a',
          { href: `#/series/device/${encodeURIComponent(id)}${s ? `/${encodeURIComponent(s.metric)}` : ''}` },
          d?.name ?? id,
        ),
        d && d.name !== id ? el('div', { class: 'muted small' }, id) : null,
      ),
      el('td', { class: 'small' }, d ? `${d.kind} · ${d.district}` : ''),
      el(
        'td',
        null,
        s ? el('code', null, s.metric) : el('span', { class: 'muted' }, 'counted in the registry'),
      ),
      el(
        'td',
        { class: 'num', 'data-readings': s ? String(s.readings) : null },
        s ? number(s.readings, 0) : '–',
      ),
      el('td', { class: 'num' }, s ? number(s.expected, 0) : '–'),
      el('td', { class: 'num' }, s ? (s.expected > 0 ? pct(completeness) : 'none owed') : '–'),
    );
  };
  const devices = el(
    'div',
    { class: 'table-wrap' },
    el(
      'table',
      { class: 'table explain-devices', 'data-testid': 'lineage-devices' },
      el(
        'thead',
        null,
        el(
          'tr',
          null,
          el('th', null, 'Device'),
          el('th', null, 'Kind · district'),
          el('th', null, 'Series'),
          el('th', { class: 'num' }, 'Readings'),
          el('th', { class: 'num' }, 'Expected'),
          el('th', { class: 'num' }, 'Completeness'),
        ),
      ),
      el(
        'tbody',
        null,
        ...deviceSeries.map((s) => deviceRow(s.key, s)),
        ...registryOnly.map((id) => deviceRow(id, null)),
        deviceSeries.length + registryOnly.length === 0
          ? el('tr', null, el('td', { colspan: 6, class: 'muted' }, 'No device feeds this value.'))
          : null,
      ),
    ),
  );
  const otherSeries = lineage.series.filter((s) => s.scope !== 'device');
  const inputs = el(
    'div',
    { class: 'table-wrap' },
    el(
      'table',
      { class: 'table explain-inputs', 'data-testid': 'lineage-inputs' },
      el(
        'thead',
        null,
        el(
          'tr',
          null,
          el('th', null, 'Input'),
          el('th', { class: 'num' }, 'Value'),
          el('th', null, 'Unit'),
          el('th', null, 'Kind'),
          el('th', null, 'Source'),
        ),
      ),
      el(
        'tbody',
        null,
        ...lineage.manualInputs.map((m) => {
          const kind = inputKind(m);
          return el(
            'tr',
            { 'data-input': m.name },
            el(
              'td',
              null,
              m.name,
              m.effectiveFrom
                ? el('div', { class: 'muted small' }, `effective from ${m.effectiveFrom}`)
                : null,
            ),
            el('td', { class: 'num' }, number(m.value, 3)),
            el('td', null, m.unit),
            el('td', null, el('span', { class: `chip ${kind.cls}` }, kind.text)),
            el('td', { class: 'small' }, m.source),
          );
        }),
        lineage.manualInputs.length === 0
          ? el(
              'tr',
              null,
              el('td', { colspan: 5, class: 'muted' }, 'No manual input or city-profile figure.'),
            )
          : null,
      ),
    ),
  );
  const counts = Object.entries(lineage.registryCounts ?? {});
  return el(
    'div',
    { class: 'explain' },
    head,
    formula,
    el(
      'h4',
      null,
      `Devices and series · ${number(lineage.readings, 0)} readings`,
      lineage.timeRange
        ? el(
            'span',
            { class: 'muted small' },
            ` · ${dateTime(Date.parse(lineage.timeRange.from))} – ${dateTime(Date.parse(lineage.timeRange.to))}`,
          )
        : null,
    ),
    devices,
    otherSeries.length > 0
      ? el(
          'ul',
          { class: 'explain-other-series' },
          ...otherSeries.map((s) =>
            el(
              'li',
              null,
              `${s.scope} ${s.key} · `,
              el('code', null, s.metric),
              ` · ${number(s.readings, 0)} readings`,
            ),
          ),
        )
      : null,
    el('h4', null, 'Manual inputs and city-profile figures'),
    inputs,
    counts.length > 0
      ? el(
          'div',
          null,
          el('h4', null, 'Registry counts'),
          el(
            'ul',
            { class: 'explain-counts' },
            ...counts.map(([k, n]) => el('li', null, `${k}: ${number(n, 0)}`)),
          ),
        )
      : null,
    (lineage.notes ?? []).length > 0
      ? el(
          'div',
          null,
          el('h4', null, 'Notes'),
          el('ul', { class: 'explain-notes' }, ...(lineage.notes ?? []).map((n) => el('li', null, n))),
        )
      : null,
  );
}
