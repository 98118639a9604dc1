// @ts-check
// One manual KPI value with its evidence (analyst): KPI, data point, period, value and unit, data-quality
// class, source, and a URL or note. The API checks unit, range and consistency and says what is wrong.

import { api } from '../api.js';
import { el } from '../dom.js';
import { failure } from '../files.js';
import { state } from '../live.js';

/** The U4SSC data-quality classes the API accepts. */
export const DATA_QUALITY = [
  ['accurate-measurement', 'Accurate measurement'],
  ['extrapolated-survey', 'Extrapolated from a survey'],
  ['extrapolated-higher-level', 'Extrapolated from higher-level data'],
  ['estimation-with-assumptions', 'Estimation with assumptions'],
  ['personal-estimation', 'Personal estimation'],
  ['unknown', 'Unknown / not traceable'],
];

/**
 * @typedef {{ code: string, compactCode: string, name: string, unit: string, obtained: string }} KpiItem
 */

/**
 * @param {{ onEntered(record: { subject: string }): void }} handlers
 * @returns {HTMLElement}
 */
export function manualEntryForm(handlers) {
  /** @type {KpiItem[]} */
  const kpis = [...state.kpis.values()].sort((a, b) =>
    a.obtained === b.obtained
      ? a.code.localeCompare(b.code)
      : a.obtained === 'manual'
        ? -1
        : b.obtained === 'manual'
          ? 1
          : 0,
  );
  const kpi = /** @type {HTMLSelectElement} */ (
    el(
      'select',
      { name: 'kpi', required: true, 'data-testid': 'manual-kpi' },
      ...kpis.map((k) =>
        el(
          'option',
          { value: k.compactCode },
          `${k.code} · ${k.name}${k.obtained === 'manual' ? '' : ` (${k.obtained})`}`,
        ),
      ),
    )
  );
  const dataPoint = /** @type {HTMLInputElement} */ (
    el('input', { name: 'dataPoint', list: 'kpi-data-points', placeholder: 'single-value KPI: empty' })
  );
  const dataPoints = el('datalist', { id: 'kpi-data-points' });
  const unit = /** @type {HTMLInputElement} */ (el('input', { name: 'unit', required: true }));
  const override = /** @type {HTMLInputElement} */ (el('input', { type: 'checkbox', name: 'override' }));
  const overrideLabel = el(
    'label',
    { class: 'inline', hidden: true },
    override,
    'replace the sensor-derived value (recorded as an override)',
  );
  const error = el('p', { class: 'error', role: 'alert', 'data-testid': 'manual-error' });
  const done = el('p', { class: 'small muted', role: 'status', 'data-testid': 'manual-done' });
  const submit = el('button', { type: 'submit' }, 'Enter value');

  async function chosen() {
    const item = kpis.find((k) => k.compactCode === kpi.value);
    if (!item) return;
    unit.value = item.unit;
    overrideLabel.hidden = item.obtained === 'manual';
    override.checked = false;
    dataPoints.replaceChildren();
    try {
      const detail = await api(`/api/kpis/${encodeURIComponent(item.compactCode)}`);
      /** @type {string[]} */
      const points = detail?.definition?.dataPoints ?? [];
      if (points.length > 1) dataPoints.replaceChildren(...points.map((p) => el('option', { value: p })));
    } catch (err) {
      error.textContent = `The data points of ${item.code} could not be loaded: ${failure(err)}`;
    }
  }
  kpi.addEventListener('change', chosen);
  if (kpis.length > 0) chosen();

  const form = /** @type {HTMLFormElement} */ (
    el(
      'form',
      { class: 'device-form', 'data-testid': 'manual-form' },
      el('label', { class: 'wide' }, 'KPI *', kpi),
      el('label', null, 'data point', dataPoint),
      dataPoints,
      el(
        'label',
        null,
        'period * (YYYY, YYYY-MM, YYYY-Qn)',
        el('input', {
          name: 'period',
          required: true,
          placeholder: '2025',
          pattern: '\\d{4}(-(0[1-9]|1[0-2]|Q[1-4]))?',
        }),
      ),
      el(
        'label',
        null,
        'value *',
        el('input', { name: 'value', type: 'number', step: 'any', required: true }),
      ),
      el('label', null, 'unit *', unit),
      el(
        'label',
        null,
        'data quality *',
        el(
          'select',
          { name: 'dataQuality', required: true },
          ...DATA_QUALITY.map(([v, text]) => el('option', { value: v }, text)),
        ),
      ),
      el(
        'label',
        { class: 'wide' },
        'source *',
        el('input', {
          name: 'source',
          required: true,
          maxlength: 200,
          placeholder: 'who published the figure',
        }),
      ),
      el(
        'label',
        { class: 'wide' },
        'evidence (URL or note)',
        el('input', { name: 'evidence', maxlength: 2000, placeholder: 'https://…' }),
      ),
      el('div', { class: 'actions' }, submit, overrideLabel),
      error,
      done,
    )
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    done.textContent = '';
    const value = (/** @type {string} */ name) =>
      /** @type {HTMLInputElement} */ (form.elements.namedItem(name)).value.trim();
    /** @type {Record<string, unknown>} */
    const body = {
      period: value('period'),
      value: Number(value('value')),
      unit: value('unit'),
      dataQuality: value('dataQuality'),
      source: value('source'),
    };
    if (value('dataPoint')) body.dataPoint = value('dataPoint');
    if (value('evidence')) body.evidence = value('evidence');
    if (override.checked) body.override = true;
    submit.disabled = true;
    try {
      const record = await api(`/api/kpis/${encodeURIComponent(kpi.value)}/values`, { method: 'POST', body });
      done.textContent = `Entered: ${record.subject}${record.dataPoint ? ` · ${record.dataPoint}` : ''}, ${record.period}: ${record.value} ${record.unit}.`;
      handlers.onEntered(record);
    } catch (err) {
      error.textContent = `Not entered: ${failure(err)}`;
    } finally {
      submit.disabled = false;
    }
  });
  return el(
    'section',
    { class: 'card' },
    el('h2', null, 'Enter a manual value'),
    kpis.length === 0 ? el('p', { class: 'error' }, 'No KPIs are available in this deployment.') : form,
  );
}
