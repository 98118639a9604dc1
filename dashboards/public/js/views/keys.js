// @ts-check
// API keys (admin only): list, create (the key is shown once), revoke. The router shows this view only to
// admins; the API refuses everyone else regardless.

import { api } from '../api.js';
import { dateTime, el } from '../dom.js';
import { failure } from '../files.js';

/**
 * @typedef {{ id: string, name: string, role: string, createdAt: string, revokedAt: string | null }} Key
 */

/** @param {HTMLElement} root */
export function keysView(root) {
  const body = el('tbody');
  const shown = el('p', { class: 'new-key', hidden: true });
  const name = el('input', { name: 'name', required: true, placeholder: 'wall display' });
  const role = el(
    'select',
    { name: 'role' },
    ...['viewer', 'operator', 'analyst', 'admin'].map((r) => el('option', { value: r }, r)),
  );
  const error = el('p', { class: 'error', role: 'alert' });
  const form = el(
    'form',
    { class: 'inline-form', 'data-testid': 'create-key' },
    el('label', null, 'name', name),
    el('label', null, 'role', role),
    el('button', { type: 'submit' }, 'Create key'),
    error,
  );

  /** @param {unknown} err */
  function showLoadError(err) {
    error.textContent = `The keys could not be loaded: ${failure(err)}`;
  }
  async function load() {
    const res = await api('/api/keys');
    body.replaceChildren(
      ...res.items.map((/** @type {Key} */ k) =>
        el(
          'tr',
          { class: k.revokedAt ? 'muted' : '' },
          el('td', null, k.name),
          el('td', null, el('span', { class: `role role-${k.role}` }, k.role)),
          el('td', null, dateTime(Date.parse(k.createdAt))),
          el('td', null, k.revokedAt ? `revoked ${dateTime(Date.parse(k.revokedAt))}` : 'valid'),
          el(
            'td',
            null,
            k.revokedAt
              ? null
              : el('button', { type: 'button', class: 'ghost', onclick: () => revoke(k) }, 'Revoke'),
          ),
        ),
      ),
    );
  }
  /** @param {Key} k */
  async function revoke(k) {
    if (!window.confirm(`Revoke key "${k.name}"? Its sessions end at once.`)) return;
    try {
      await api(`/api/keys/${encodeURIComponent(k.id)}`, { method: 'DELETE' });
    } catch (err) {
      error.textContent = `Not revoked: ${failure(err)}`;
    }
    load().catch(showLoadError);
  }
  form.addEventListener('submit', async (/** @type {SubmitEvent} */ event) => {
    event.preventDefault();
    try {
      const created = await api('/api/keys', {
        method: 'POST',
        body: { name: name.value, role: role.value },
      });
      shown.hidden = false;
      shown.replaceChildren('New key (shown once, copy it now): ', el('code', null, created.key));
      name.value = '';
      error.textContent = '';
      load().catch(showLoadError);
    } catch (err) {
      error.textContent = `Not created: ${failure(err)}`;
    }
  });
  root.append(
    el(
      'section',
      { class: 'card' },
      el('h2', null, 'API keys'),
      el(
        'table',
        { class: 'table' },
        el(
          'thead',
          null,
          el('tr', null, ...['Name', 'Role', 'Created', 'State', ''].map((h) => el('th', null, h))),
        ),
        body,
      ),
      form,
      shown,
    ),
  );
  load().catch(showLoadError);
  return {};
}
