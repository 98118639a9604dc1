// @ts-check
// One device's administration (admin): name, district, location, the kind's attributes and the install
// date; disable or enable; a new password; decommissioning. Every change goes through the API, which
// enforces the role and the rules (an install date that would leave stored readings outside is refused
// unless forced, and the page says how many).

import { api } from '../api.js';
import { dateTime, el } from '../dom.js';
import { failure } from '../files.js';
import { state } from '../live.js';
import {
  attributeFields,
  isoFromLocal,
  localInput,
  locationFields,
  readAttributes,
  readLocation,
} from './fields.js';

/**
 * @typedef {{ id: string, kind: string, name: string, district: string, status: 'active' | 'disabled',
 *   location: { lat: number, lon: number } | null, attributes: Record<string, string | number | boolean>,
 *   installedAt: string, removedAt: string | null }} Device
 */

/**
 * @param {Device} device
 * @param {{ onChanged(device: Device, notice: string): void, onPassword(device: Device, password: string): void, onClose(): void }} handlers
 * @param {string} [notice] what the last change did (the editor is drawn again after each)
 * @returns {HTMLElement}
 */
export function deviceEditor(device, handlers, notice = '') {
  const kind = state.kinds.get(device.kind);
  const error = el('p', { class: 'error', role: 'alert', 'data-testid': 'editor-error' });
  const done = el('p', { class: 'small muted', role: 'status', 'data-testid': 'editor-notice' }, notice);
  const force = el('input', { type: 'checkbox', name: 'force' });
  const forceLabel = el(
    'label',
    { class: 'inline', hidden: true },
    force,
    'change it anyway (those readings stop counting)',
  );
  const attributes = attributeFields(kind, device.attributes);
  const path = `/api/devices/${encodeURIComponent(device.id)}`;

  /** Runs a change and reports it; a refused one says why, on the page. @param {() => Promise<Device | null>} change @param {string} what */
  async function run(change, what) {
    error.textContent = '';
    done.textContent = '';
    try {
      const changed = await change();
      if (changed) handlers.onChanged(changed, `${what}.`);
      else done.textContent = `${what}.`;
    } catch (err) {
      error.textContent = `${what}: refused: ${failure(err)}`;
      // The readings an interval change would leave outside: offer to force it, knowingly.
      if (/** @type {{ code?: string }} */ (err).code === 'DEVICES_LIFE_EXCLUDES_READINGS')
        forceLabel.hidden = false;
    }
  }

  const [latLabel, lonLabel] = locationFields(device.location);
  const form = /** @type {HTMLFormElement} */ (
    el(
      'form',
      { class: 'device-form', 'data-testid': 'device-edit-form' },
      el('label', null, 'name', el('input', { name: 'name', required: true, value: device.name })),
      el(
        'label',
        null,
        'district',
        el('input', { name: 'district', required: true, value: device.district }),
      ),
      latLabel,
      lonLabel,
      el(
        'label',
        null,
        'installed at (your time zone)',
        el('input', {
          name: 'installedAt',
          type: 'datetime-local',
          required: true,
          value: localInput(device.installedAt),
        }),
      ),
      attributes,
      el(
        'div',
        { class: 'actions' },
        el('button', { type: 'submit', 'data-action': 'save-device' }, 'Save'),
        forceLabel,
      ),
    )
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = (/** @type {string} */ name) =>
      /** @type {HTMLInputElement} */ (form.elements.namedItem(name)).value.trim();
    const location = readLocation(form);
    if (typeof location === 'string') {
      error.textContent = location;
      return;
    }
    /** @type {Record<string, unknown>} */
    const patch = {};
    if (value('name') !== device.name) patch.name = value('name');
    if (value('district') !== device.district) patch.district = value('district');
    if (JSON.stringify(location) !== JSON.stringify(device.location)) patch.location = location;
    const installedAt = isoFromLocal(value('installedAt'));
    // the input holds minutes: only a date changed by hand is sent
    if (value('installedAt') !== localInput(device.installedAt)) patch.installedAt = installedAt;
    const attrs = readAttributes(attributes, device.attributes);
    const changedAttrs = Object.fromEntries(
      Object.entries(attrs).filter(([k, v]) => device.attributes[k] !== v),
    );
    if (Object.keys(changedAttrs).length > 0) patch.attributes = changedAttrs;
    if (Object.keys(patch).length === 0) {
      done.textContent = 'Nothing changed.';
      return;
    }
    if (force.checked) patch.force = true;
    run(() => api(path, { method: 'PATCH', body: patch }), 'Saved');
  });

  const removed = device.removedAt !== null;
  const decommissionAt = el('input', {
    type: 'datetime-local',
    name: 'decommissionAt',
    value: localInput(Date.now()),
  });
  const actions = el(
    'div',
    { class: 'actions device-actions' },
    el(
      'button',
      {
        type: 'button',
        class: 'ghost',
        'data-action': device.status === 'disabled' ? 'enable-device' : 'disable-device',
        onclick: () =>
          run(
            () => api(`${path}/${device.status === 'disabled' ? 'enable' : 'disable'}`, { method: 'POST' }),
            device.status === 'disabled' ? 'Enabled' : 'Disabled: it is disconnected and refused',
          ),
      },
      device.status === 'disabled' ? 'Enable' : 'Disable',
    ),
    el(
      'button',
      {
        type: 'button',
        class: 'ghost',
        'data-action': 'rotate-password',
        disabled: removed,
        onclick: () => {
          if (!window.confirm(`Issue a new password for ${device.name}? The old one stops working at once.`))
            return;
          run(async () => {
            const res = await api(`${path}/rotate-password`, { method: 'POST' });
            handlers.onPassword(device, res.password);
            return null;
          }, 'New password issued');
        },
      },
      'New password',
    ),
    removed
      ? el(
          'span',
          { class: 'muted' },
          `decommissioned ${dateTime(Date.parse(/** @type {string} */ (device.removedAt)))}`,
        )
      : el(
          'span',
          { class: 'decommission' },
          el('label', null, 'removed at', decommissionAt),
          el(
            'button',
            {
              type: 'button',
              class: 'ghost danger',
              'data-action': 'decommission-device',
              onclick: () => {
                if (
                  !window.confirm(
                    `Decommission ${device.name}? Its credentials stop working; its readings stay.`,
                  )
                )
                  return;
                const at = isoFromLocal(/** @type {HTMLInputElement} */ (decommissionAt).value);
                run(
                  () =>
                    api(`${path}/decommission`, {
                      method: 'POST',
                      body: { ...(at ? { at } : {}), ...(force.checked ? { force: true } : {}) },
                    }),
                  'Decommissioned',
                );
              },
            },
            'Decommission',
          ),
        ),
  );

  return el(
    'section',
    { class: 'card device-panel', 'data-testid': 'device-editor', 'data-device': device.id },
    el(
      'div',
      { class: 'card-head' },
      el(
        'h2',
        null,
        `${device.name} `,
        el('span', { class: 'muted small' }, `${device.id} · ${kind?.name ?? device.kind}`),
      ),
      el('button', { type: 'button', class: 'ghost small', onclick: handlers.onClose }, 'Close'),
    ),
    form,
    actions,
    error,
    done,
  );
}
