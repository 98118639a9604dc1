// @ts-check
// Provisioning one device (admin): kind, district, the attributes the kind declares, optional id, name,
// location and install date. The password comes back once and is handed to the credentials card.

import { api } from '../api.js';
import { el } from '../dom.js';
import { failure } from '../files.js';
import { state } from '../live.js';
import { attributeFields, isoFromLocal, locationFields, readAttributes, readLocation } from './fields.js';

/**
 * @param {{ onProvisioned(device: { id: string, kind: string, name: string }, password: string): void, onClose(): void }} handlers
 * @returns {HTMLElement}
 */
export function provisionForm(handlers) {
  const kinds = [...state.kinds.values()].sort((a, b) => a.name.localeCompare(b.name));
  const kind = el(
    'select',
    { name: 'kind', required: true },
    ...kinds.map((k) => el('option', { value: k.id }, k.name)),
  );
  const districts = [...new Set([...state.devices.values()].map((d) => d.district))].sort();
  const district = el('input', {
    name: 'district',
    required: true,
    list: 'known-districts',
    autocomplete: 'off',
  });
  const attributes = el('div', { class: 'form-fields' });
  const error = el('p', { class: 'error', role: 'alert', 'data-testid': 'provision-error' });
  const submit = el('button', { type: 'submit' }, 'Provision');
  const showAttributes = () => attributes.replaceChildren(attributeFields(state.kinds.get(kind.value)));
  kind.addEventListener('change', showAttributes);
  showAttributes();

  const form = /** @type {HTMLFormElement} */ (
    el(
      'form',
      { class: 'device-form', 'data-testid': 'provision-form' },
      el('label', null, 'kind *', kind),
      el('label', null, 'district *', district),
      el('datalist', { id: 'known-districts' }, ...districts.map((d) => el('option', { value: d }))),
      el('label', null, 'name', el('input', { name: 'name', placeholder: 'default: kind and id' })),
      el(
        'label',
        null,
        'id',
        el('input', { name: 'id', placeholder: 'default: generated', pattern: '[a-z0-9][a-z0-9_\\-]{0,63}' }),
      ),
      ...locationFields(null),
      el(
        'label',
        null,
        'installed at (your time zone)',
        el('input', { name: 'installedAt', type: 'datetime-local' }),
      ),
      attributes,
      el(
        'div',
        { class: 'actions' },
        submit,
        el('button', { type: 'button', class: 'ghost', onclick: handlers.onClose }, 'Cancel'),
      ),
      error,
    )
  );

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    const field = (/** @type {string} */ name) =>
      /** @type {HTMLInputElement} */ (form.elements.namedItem(name)).value.trim();
    const location = readLocation(form);
    if (typeof location === 'string') {
      error.textContent = location;
      return;
    }
    const attrs = readAttributes(attributes);
    /** @type {Record<string, unknown>} */
    const body = { kind: kind.value, district: field('district') };
    if (field('name')) body.name = field('name');
    if (field('id')) body.id = field('id');
    if (location) body.location = location;
    if (field('installedAt')) body.installedAt = isoFromLocal(field('installedAt'));
    if (Object.keys(attrs).length > 0) body.attributes = attrs;
    submit.disabled = true;
    try {
      const created = await api('/api/devices', { method: 'POST', body });
      handlers.onProvisioned(created, created.password);
    } catch (err) {
      error.textContent = `Not provisioned: ${failure(err)}`;
    } finally {
      submit.disabled = false;
    }
  });

  return el('section', { class: 'card device-panel' }, el('h2', null, 'Provision a device'), form);
}
