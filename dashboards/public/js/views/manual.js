// @ts-check
// Manual inputs (#/manual): the KPIs no sensor measures, entered one by one or from a sheet, each with its
// source and evidence; and the values in force, newest first. Entering and importing are offered to
// analysts and admins only; everyone may read.

import { api, can } from '../api.js';
import { dateTime, el, number } from '../dom.js';
import { failure } from '../files.js';
import { state } from '../live.js';
import { manualEntryForm } from '../manual/entry-form.js';
import { sheetImport } from '../manual/sheet-import.js';

const PAGE = 50;

/**
 * @typedef {{ id: number, subjectType: 'kpi' | 'input', subject: string, dataPoint: string | null, period: string,
 *   value: number, unit: string, dataQuality: string, source: string, evidence: string | null, override: boolean,
 *   enteredBy: string, enteredAt: string }} ManualRecord
 */

/**
 * @param {HTMLElement} root
 * @returns {{ destroy(): void }}
 */
export function manualView(root) {
  const analyst = can('analyst');
  const body = el('tbody');
  const info = el('span', { class: 'muted' });
  const prev = /** @type {HTMLButtonElement} */ (el('button', { type: 'button', class: 'ghost' }, '‹ Newer'));
  const next = /** @type {HTMLButtonElement} */ (el('button', { type: 'button', class: 'ghost' }, 'Older ›'));
  const error = el('p', { class: 'error', role: 'alert', 'data-testid': 'manual-list-error' });
  let offset = 0;
  let alive = true;

  async function load() {
    try {
      const page = await api(`/api/manual-inputs?limit=${PAGE}&offset=${offset}`);
      if (!alive) return;
      error.textContent = '';
      render(page.items, page.total);
    } catch (err) {
      error.textContent = `The manual values could not be loaded: ${failure(err)}`;
    }
  }

  /** @param {ManualRecord[]} items @param {number} total */
  function render(items, total) {
    body.replaceChildren(
      ...items.map((m) => {
        const kpi = m.subjectType === 'kpi' ? state.kpis.get(m.subject) : undefined;
        const evidence = m.evidence ?? '';
        return el(
          'tr',
          { 'data-manual': m.id, 'data-subject': m.subject },
          el(
            'td',
            null,
            el('div', null, kpi ? kpi.name : m.subject),
            el('div', { class: 'muted small' }, m.subjectType === 'kpi' ? m.subject : 'formula input'),
          ),
          el('td', null, m.dataPoint ?? '–'),
          el('td', null, m.period),
          el('td', { class: 'num' }, `${number(m.value, 6)} ${m.unit}`),
          el(
            'td',
            { class: 'small' },
            m.dataQuality,
            m.override ? el('div', { class: 'bad' }, 'override') : null,
          ),
          el('td', { class: 'small' }, m.source),
          el(
            'td',
            { class: 'small evidence' },
            /^https?:\/\//.test(evidence)
              ? el('a', { href: evidence, target: '_blank', rel: 'noopener noreferrer' }, evidence)
              : evidence || '–',
          ),
          el(
            'td',
            { class: 'small' },
            m.enteredBy,
            el('div', { class: 'muted' }, dateTime(Date.parse(m.enteredAt))),
          ),
        );
      }),
    );
    if (items.length === 0)
      body.append(el('tr', null, el('td', { colspan: 8, class: 'muted' }, 'No manual values yet.')));
    info.textContent =
      total === 0 ? '0 values' : `${offset + 1}–${offset + items.length} of ${number(total, 0)}`;
    prev.disabled = offset === 0;
    next.disabled = offset + PAGE >= total;
  }
  prev.addEventListener('click', () => {
    offset = Math.max(0, offset - PAGE);
    load();
  });
  next.addEventListener('click', () => {
    offset += PAGE;
    load();
  });
  const reload = () => {
    offset = 0;
    load();
  };

  root.append(
    state.kpiAvailable === false
      ? el(
          'section',
          { class: 'card' },
          el(
            'p',
            { class: 'error' },
            'This deployment has no KPI engine: manual values cannot be entered here.',
          ),
        )
      : el(
          'div',
          { class: 'manual-grid' },
          analyst ? manualEntryForm({ onEntered: reload }) : null,
          sheetImport({ canImport: analyst, onImported: reload }),
        ),
    el(
      'section',
      { class: 'card' },
      el('h2', null, 'Manual values in force'),
      error,
      el(
        'div',
        { class: 'table-wrap' },
        el(
          'table',
          { class: 'table', 'data-testid': 'manual-values' },
          el(
            'thead',
            null,
            el(
              'tr',
              null,
              ...['KPI', 'Data point', 'Period', 'Value', 'Quality', 'Source', 'Evidence', 'Entered'].map(
                (h) => el('th', null, h),
              ),
            ),
          ),
          body,
        ),
      ),
      el('div', { class: 'pager' }, prev, info, next),
    ),
  );
  load();
  return {
    destroy() {
      alive = false;
    },
  };
}
