// @ts-check
// Provisioning from a CSV (admin): the file goes to POST /api/devices/bulk as it is; each refused row is
// listed with its row and column, and the passwords of the created devices can be saved once as a CSV,
// after which the page forgets them.

import { api } from '../api.js';
import { el } from '../dom.js';
import { csvLine, failure, saveFile } from '../files.js';

const COLUMNS = 'kind,district,id,name,lat,lon,devEui,installedAt,removedAt,attributes.<name>';
const EXAMPLE = [
  'kind,district,id,name,lat,lon,installedAt,attributes.customersServed',
  'noise-monitor,Old Town,noise-town-hall,Town hall square,52.52,13.40,2026-01-01,',
  'electricity-feeder-meter,Harbour,feeder-harbour-1,Harbour substation,,,,1200',
].join('\n');

/**
 * @typedef {{ row: number, column: string, code: string, message: string }} RowError
 * @typedef {{ row: number, id: string, kind: string, name: string, district: string, password: string }} Created
 */

/**
 * @param {{ onProvisioned(created: Created[]): void, onClose(): void }} handlers
 * @returns {HTMLElement}
 */
export function bulkProvision(handlers) {
  const file = /** @type {HTMLInputElement} */ (
    el('input', { type: 'file', name: 'csv', accept: '.csv,text/csv', required: true })
  );
  const submit = el('button', { type: 'submit' }, 'Upload and provision');
  const error = el('p', { class: 'error', role: 'alert', 'data-testid': 'bulk-error' });
  const result = el('div', { 'data-testid': 'bulk-result' });
  const form = el(
    'form',
    { class: 'device-form', 'data-testid': 'bulk-form' },
    el('label', null, 'CSV file', file),
    el(
      'div',
      { class: 'actions' },
      submit,
      el('button', { type: 'button', class: 'ghost', onclick: handlers.onClose }, 'Close'),
    ),
  );

  form.addEventListener('submit', async (/** @type {SubmitEvent} */ event) => {
    event.preventDefault();
    const chosen = file.files?.[0];
    if (!chosen) return;
    error.textContent = '';
    result.replaceChildren();
    submit.disabled = true;
    try {
      /** @type {{ created: Created[], errors: RowError[] }} */
      const answer = await api('/api/devices/bulk', { method: 'POST', raw: chosen, contentType: 'text/csv' });
      result.replaceChildren(...renderResult(answer));
      if (answer.created.length > 0) handlers.onProvisioned(answer.created);
      file.value = '';
    } catch (err) {
      error.textContent = `Nothing was provisioned: ${failure(err)}`;
    } finally {
      submit.disabled = false;
    }
  });

  return el(
    'section',
    { class: 'card device-panel', 'data-testid': 'bulk-provision' },
    el('h2', null, 'Provision devices from a CSV'),
    el(
      'p',
      { class: 'small muted' },
      'One device a row, header ',
      el('code', null, COLUMNS),
      '; kind and district required, attributes typed as the kind declares them. Valid rows are provisioned even when others are refused.',
    ),
    el('pre', { class: 'snippet small' }, EXAMPLE),
    form,
    error,
    result,
  );
}

/** @param {{ created: Created[], errors: RowError[] }} answer */
function renderResult(answer) {
  const out = [
    el(
      'p',
      { 'data-testid': 'bulk-summary' },
      `${answer.created.length} provisioned, ${answer.errors.length} ${answer.errors.length === 1 ? 'row' : 'rows'} refused.`,
    ),
  ];
  if (answer.errors.length > 0)
    out.push(
      el(
        'table',
        { class: 'table', 'data-testid': 'bulk-errors' },
        el('thead', null, el('tr', null, ...['Row', 'Column', 'Problem'].map((h) => el('th', null, h)))),
        el(
          'tbody',
          null,
          ...answer.errors.map((e) =>
            el(
              'tr',
              { 'data-row': e.row, 'data-column': e.column },
              el('td', { class: 'num' }, e.row === 0 ? 'file' : String(e.row)),
              el('td', null, el('code', null, e.column || '–')),
              el('td', { class: 'bad' }, `${e.message} (${e.code})`),
            ),
          ),
        ),
      ),
    );
  if (answer.created.length > 0) {
    /** @type {Created[] | null} */
    let secrets = answer.created;
    const save = el(
      'button',
      { type: 'button', 'data-action': 'download-bulk-credentials' },
      `Download the ${answer.created.length} passwords (once)`,
    );
    save.addEventListener('click', () => {
      if (secrets === null) return;
      const lines = [
        csvLine(['row', 'id', 'kind', 'name', 'district', 'username', 'password', 'telemetry_topic']),
        ...secrets.map((d) =>
          csvLine([d.row, d.id, d.kind, d.name, d.district, d.id, d.password, `devices/${d.id}/telemetry`]),
        ),
      ];
      saveFile(new Blob([`${lines.join('\r\n')}\r\n`], { type: 'text/csv' }), 'device-credentials.csv');
      // Forgotten once saved: the page is not a place to keep passwords.
      secrets = null;
      save.textContent = 'Passwords downloaded; they are not shown again';
      save.setAttribute('disabled', '');
    });
    out.push(
      el(
        'p',
        null,
        save,
        ' ',
        el('span', { class: 'small muted' }, 'The platform keeps only their hashes: this is the only copy.'),
      ),
    );
  }
  return out;
}
