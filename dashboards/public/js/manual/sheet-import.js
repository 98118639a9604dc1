// @ts-check
// Manual values in bulk: the API's template (CSV or XLSX) to fill in, and the import of a filled sheet.
// A sheet is all or nothing: every refused row is listed with its row and column, as a spreadsheet shows them.

import { api, apiFile } from '../api.js';
import { el } from '../dom.js';
import { failure, saveFile } from '../files.js';

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** @typedef {{ row: number, column: string, code: string, message: string }} SheetError */

/**
 * @param {{ canImport: boolean, onImported(count: number): void }} options
 * @returns {HTMLElement}
 */
export function sheetImport(options) {
  const error = el('p', { class: 'error', role: 'alert', 'data-testid': 'import-error' });
  const result = el('div', { 'data-testid': 'import-result' });
  /** @param {'csv' | 'xlsx'} format */
  const template = async (format) => {
    error.textContent = '';
    try {
      const file = await apiFile(`/api/manual-inputs/template?format=${format}`);
      saveFile(file.blob, file.fileName ?? `manual-inputs-template.${format}`);
    } catch (err) {
      error.textContent = `The template could not be downloaded: ${failure(err)}`;
    }
  };
  const file = /** @type {HTMLInputElement} */ (
    el('input', { type: 'file', name: 'sheet', accept: '.csv,.xlsx,text/csv', required: true })
  );
  const submit = el('button', { type: 'submit' }, 'Import');
  const form = el(
    'form',
    { class: 'inline-form', 'data-testid': 'import-form' },
    el('label', null, 'sheet (CSV or XLSX)', file),
    submit,
  );
  form.addEventListener('submit', async (/** @type {SubmitEvent} */ event) => {
    event.preventDefault();
    const chosen = file.files?.[0];
    if (!chosen) return;
    error.textContent = '';
    result.replaceChildren();
    const isXlsx = chosen.name.toLowerCase().endsWith('.xlsx') || chosen.type === XLSX;
    submit.disabled = true;
    try {
      const answer = await api('/api/manual-inputs/import', {
        method: 'POST',
        raw: chosen,
        contentType: isXlsx ? XLSX : 'text/csv',
      });
      result.replaceChildren(
        el(
          'p',
          { 'data-testid': 'import-summary' },
          `${answer.imported} ${answer.imported === 1 ? 'value' : 'values'} imported.`,
        ),
      );
      file.value = '';
      options.onImported(answer.imported);
    } catch (err) {
      error.textContent = `Nothing was imported: ${failure(err)}`;
      /** @type {SheetError[]} */
      const rows = /** @type {any} */ (err)?.details?.errors ?? [];
      if (rows.length > 0) result.replaceChildren(errorTable(rows));
    } finally {
      submit.disabled = false;
    }
  });
  return el(
    'section',
    { class: 'card' },
    el('h2', null, 'Import a sheet'),
    el(
      'p',
      { class: 'actions' },
      el(
        'button',
        { type: 'button', class: 'ghost', 'data-action': 'template-csv', onclick: () => template('csv') },
        'Template (CSV)',
      ),
      el(
        'button',
        { type: 'button', class: 'ghost', 'data-action': 'template-xlsx', onclick: () => template('xlsx') },
        'Template (XLSX)',
      ),
      el(
        'span',
        { class: 'small muted' },
        'One row per KPI, data point and period; the example row is valid: replace it.',
      ),
    ),
    options.canImport ? form : el('p', { class: 'small muted' }, 'Importing needs the analyst role.'),
    error,
    result,
  );
}

/** @param {SheetError[]} rows */
function errorTable(rows) {
  return el(
    'table',
    { class: 'table', 'data-testid': 'import-errors' },
    el('thead', null, el('tr', null, ...['Row', 'Column', 'Problem'].map((h) => el('th', null, h)))),
    el(
      'tbody',
      null,
      ...rows.map((e) =>
        el(
          'tr',
          { 'data-row': e.row, 'data-column': e.column },
          el('td', { class: 'num' }, e.row === 0 ? 'file' : String(e.row)),
          el('td', null, el('code', null, e.column || '–')),
          el('td', { class: 'bad' }, `${e.message} (${e.code})`),
        ),
      ),
    ),
  );
}
