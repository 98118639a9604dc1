// @ts-check
// The tile chooser (admin only; the API refuses anyone else): which KPI tiles a role sees on the overview,
// in which order, saved on the server per role.

import { api, getRole } from './api.js';
import { el } from './dom.js';
import { markDirty, state } from './live.js';

const ROLES = ['viewer', 'operator', 'analyst', 'admin'];

/**
 * @typedef {import('./kpi-tiles.js').TileLayout} TileLayout
 */

/** A panel to open under the KPI tiles; `onClose` removes it. @param {{ onClose: () => void }} opts */
export function createTileChooser({ onClose }) {
  const roleSelect = /** @type {HTMLSelectElement} */ (
    el('select', { name: 'role', 'aria-label': 'Role' }, ...ROLES.map((r) => el('option', { value: r }, r)))
  );
  roleSelect.value = getRole();
  const list = el('ol', { class: 'tile-choice', 'data-testid': 'tile-choice' });
  const addSelect = /** @type {HTMLSelectElement} */ (
    el('select', { name: 'add', 'aria-label': 'KPI to add' })
  );
  const message = el('span', { class: 'muted small', role: 'status' });
  /** @type {string[]} */
  let codes = [];

  const nameOf = (/** @type {string} */ code) => state.kpis.get(code)?.name ?? code;

  function render() {
    list.replaceChildren(
      ...codes.map((code, i) =>
        el(
          'li',
          { 'data-code': code },
          el(
            'span',
            { class: 'tile-choice-name' },
            nameOf(code),
            el('span', { class: 'muted small' }, ` ${code}`),
          ),
          el(
            'span',
            { class: 'tile-choice-actions' },
            el(
              'button',
              {
                type: 'button',
                class: 'ghost',
                'data-action': 'up',
                'aria-label': `Move ${nameOf(code)} up`,
                disabled: i === 0,
                onclick: () => move(i, -1),
              },
              '↑',
            ),
            el(
              'button',
              {
                type: 'button',
                class: 'ghost',
                'data-action': 'down',
                'aria-label': `Move ${nameOf(code)} down`,
                disabled: i === codes.length - 1,
                onclick: () => move(i, 1),
              },
              '↓',
            ),
            el(
              'button',
              {
                type: 'button',
                class: 'ghost',
                'data-action': 'remove',
                'aria-label': `Remove ${nameOf(code)}`,
                disabled: codes.length === 1,
                onclick: () => remove(i),
              },
              '✕',
            ),
          ),
        ),
      ),
    );
    const rest = [...state.kpis.values()].filter((k) => !codes.includes(k.code));
    addSelect.replaceChildren(
      ...rest.map((k) =>
        el(
          'option',
          { value: k.code },
          `${k.name} (${k.compactCode})${k.obtained === 'manual' ? ' · manual' : ''}`,
        ),
      ),
    );
  }

  /** @param {number} i @param {number} by */
  function move(i, by) {
    const [code] = codes.splice(i, 1);
    codes.splice(i + by, 0, /** @type {string} */ (code));
    render();
  }
  /** @param {number} i */
  function remove(i) {
    codes.splice(i, 1);
    render();
  }

  /** @param {TileLayout} layout */
  function show(layout) {
    codes = [...layout.codes];
    message.textContent = layout.configured
      ? `saved by ${layout.updatedBy}`
      : 'default: the KPIs sensors feed first, then coverage ratios';
    render();
  }

  /** @param {TileLayout} layout */
  function applied(layout) {
    show(layout);
    if (layout.role === getRole()) {
      state.tileLayout = layout;
      markDirty('kpis');
    }
  }

  async function load() {
    message.textContent = 'loading…';
    try {
      show(await api(`/api/tile-layouts/${roleSelect.value}`));
    } catch (err) {
      message.textContent = `cannot load: ${/** @type {Error} */ (err).message}`;
    }
  }

  async function save() {
    try {
      const layout = await api(`/api/tile-layouts/${roleSelect.value}`, { method: 'PUT', body: { codes } });
      applied(layout);
      message.textContent = `saved for ${layout.role}: ${layout.codes.length} tiles`;
    } catch (err) {
      message.textContent = `not saved: ${/** @type {Error} */ (err).message}`;
    }
  }

  async function reset() {
    try {
      await api(`/api/tile-layouts/${roleSelect.value}`, { method: 'DELETE' });
      applied(await api(`/api/tile-layouts/${roleSelect.value}`));
    } catch (err) {
      message.textContent = `not reset: ${/** @type {Error} */ (err).message}`;
    }
  }

  roleSelect.addEventListener('change', load);
  const root = el(
    'div',
    { class: 'tile-chooser', 'data-testid': 'tile-chooser' },
    el('div', { class: 'tile-chooser-head' }, el('label', null, 'Tiles of the role ', roleSelect), message),
    list,
    el(
      'div',
      { class: 'tile-chooser-foot' },
      addSelect,
      el(
        'button',
        {
          type: 'button',
          class: 'ghost',
          'data-action': 'add-tile',
          onclick: () => {
            if (!addSelect.value) return;
            codes.push(addSelect.value);
            render();
          },
        },
        'Add',
      ),
      el('span', { class: 'spacer' }),
      el('button', { type: 'button', 'data-action': 'save-tiles', onclick: save }, 'Save'),
      el(
        'button',
        { type: 'button', class: 'ghost', 'data-action': 'reset-tiles', onclick: reset },
        'Default',
      ),
      el(
        'button',
        { type: 'button', class: 'ghost', 'data-action': 'close-tiles', onclick: onClose },
        'Close',
      ),
    ),
  );
  load();
  return root;
}
