// @ts-check
// Device health: online/offline, last seen, reading rate, refused messages by reason, battery and signal
// where reported. Search and filters go to the API, which pages (a city may have tens of thousands).
// For admins, the fleet's administration: provision one device or a CSV of them, edit, disable, new
// password, decommission. Other roles see none of it; the API refuses them regardless.

import { api, can } from '../api.js';
import { bulkProvision } from '../devices/bulk-provision.js';
import { credentialsCard } from '../devices/credentials.js';
import { deviceEditor } from '../devices/device-editor.js';
import { provisionForm } from '../devices/provision-form.js';
import { el, number, relativeTime } from '../dom.js';
import { failure } from '../files.js';
import { readingRate, state } from '../live.js';
import { deviceState } from '../map.js';

const PAGE = 50;

/**
 * @param {HTMLElement} root
 * @returns {{ update(topics: Set<string>): void, destroy(): void }}
 */
export function devicesView(root) {
  const admin = can('admin');
  // Passwords shown once stay above everything until hidden; the open form or editor sits below them.
  const secrets = el('div', { class: 'secrets' });
  const panel = el('div', { class: 'panel-slot' });
  const loadError = el('p', { class: 'error', role: 'alert', 'data-testid': 'devices-error' });
  /** @param {Element | null} content */
  const showPanel = (content) => panel.replaceChildren(...(content ? [content] : []));
  /** @param {{ id: string, kind: string, name: string }} device @param {string} password @param {string} what */
  const showPassword = (device, password, what) => secrets.prepend(credentialsCard(device, password, what));
  /** @param {any} device @param {string} [notice] */
  function openEditor(device, notice) {
    showPanel(
      deviceEditor(
        device,
        {
          onChanged: (changed, text) => {
            const before = state.devices.get(changed.id);
            if (before) state.devices.set(changed.id, { ...before, ...changed });
            openEditor(changed, text);
            load().catch(showLoadError);
          },
          onPassword: (d, password) => showPassword(d, password, 'new password'),
          onClose: () => showPanel(null),
        },
        notice,
      ),
    );
  }
  const toolbar = admin
    ? el(
        'div',
        { class: 'filters', 'data-testid': 'device-admin' },
        el(
          'button',
          {
            type: 'button',
            'data-action': 'provision-device',
            onclick: () =>
              showPanel(
                provisionForm({
                  onProvisioned: (device, password) => {
                    showPassword(device, password, 'provisioned');
                    showPanel(null);
                    load().catch(showLoadError);
                  },
                  onClose: () => showPanel(null),
                }),
              ),
          },
          'Provision a device',
        ),
        el(
          'button',
          {
            type: 'button',
            class: 'ghost',
            'data-action': 'bulk-provision',
            onclick: () =>
              showPanel(
                bulkProvision({
                  onProvisioned: () => load().catch(showLoadError),
                  onClose: () => showPanel(null),
                }),
              ),
          },
          'Provision from a CSV',
        ),
      )
    : null;
  /** @param {unknown} err */
  function showLoadError(err) {
    loadError.textContent = `The devices could not be loaded: ${failure(err)}`;
  }

  const q = el('input', {
    type: 'search',
    placeholder: 'Search id or name',
    'aria-label': 'Search devices',
    'data-testid': 'device-search',
  });
  const kind = el(
    'select',
    { 'aria-label': 'Kind' },
    el('option', { value: '' }, 'All kinds'),
    ...[...state.kinds.values()].map((k) => el('option', { value: k.id }, k.name)),
  );
  const districts = [...new Set([...state.devices.values()].map((d) => d.district))].sort();
  const district = el(
    'select',
    { 'aria-label': 'District' },
    el('option', { value: '' }, 'All districts'),
    ...districts.map((d) => el('option', { value: d }, d)),
  );
  const online = el(
    'select',
    { 'aria-label': 'State' },
    el('option', { value: '' }, 'Any state'),
    el('option', { value: 'true' }, 'Online'),
    el('option', { value: 'false' }, 'Offline'),
  );
  const body = el('tbody');
  const info = el('span', { class: 'muted' });
  const prev = el('button', { type: 'button', class: 'ghost' }, '‹ Previous');
  const next = el('button', { type: 'button', class: 'ghost' }, 'Next ›');
  let offset = 0;
  /** @type {{ items: any[], total: number }} */
  let page = { items: [], total: 0 };
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;

  root.append(
    secrets,
    panel,
    el(
      'section',
      { class: 'card' },
      el(
        'div',
        { class: 'card-head' },
        el('h2', null, 'Device health'),
        toolbar,
        el('div', { class: 'filters' }, q, kind, district, online),
      ),
      loadError,
      el(
        'div',
        { class: 'table-wrap' },
        el(
          'table',
          { class: 'table devices', 'data-testid': 'devices-table' },
          el(
            'thead',
            null,
            el(
              'tr',
              null,
              ...[
                '',
                'Device',
                'Kind',
                'District',
                'Last seen',
                'Readings/min',
                'Refused',
                'Battery',
                'Signal',
                '',
              ].map((h) => el('th', null, h)),
            ),
          ),
          body,
        ),
      ),
      el('div', { class: 'pager' }, prev, info, next),
    ),
  );

  async function load() {
    const params = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
    if (q.value.trim()) params.set('q', q.value.trim());
    if (kind.value) params.set('kind', kind.value);
    if (district.value) params.set('district', district.value);
    if (online.value) params.set('online', online.value);
    page = await api(`/api/devices?${params}`);
    loadError.textContent = '';
    for (const d of page.items) {
      const known = state.devices.get(d.id);
      const lastSeen = d.lastSeenAt ? Date.parse(d.lastSeenAt) : null;
      state.devices.set(d.id, {
        ...d,
        lastSeen: known?.lastSeen && (!lastSeen || known.lastSeen > lastSeen) ? known.lastSeen : lastSeen,
      });
    }
    render();
  }
  const reload = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      offset = 0;
      load().catch(showLoadError);
    }, 200);
  };
  q.addEventListener('input', reload);
  for (const s of [kind, district, online]) s.addEventListener('change', reload);
  prev.addEventListener('click', () => {
    offset = Math.max(0, offset - PAGE);
    load().catch(showLoadError);
  });
  next.addEventListener('click', () => {
    offset += PAGE;
    load().catch(showLoadError);
  });

  /** @param {any} d @param {boolean} enable */
  async function setEnabled(d, enable) {
    try {
      await api(`/api/devices/${encodeURIComponent(d.id)}/${enable ? 'enable' : 'disable'}`, {
        method: 'POST',
      });
    } catch (err) {
      loadError.textContent = `${d.name} could not be ${enable ? 'enabled' : 'disabled'}: ${failure(err)}`;
      return;
    }
    await load().catch(showLoadError);
  }

  // Device ids whose counters are open, and the last answer for each.
  /** @type {Map<string, any>} */
  const opened = new Map();
  /** @param {string} id */
  async function toggleCounters(id) {
    if (opened.has(id)) opened.delete(id);
    else {
      opened.set(id, null);
      render();
      try {
        opened.set(id, await api(`/api/devices/${encodeURIComponent(id)}/counters`));
      } catch (err) {
        opened.set(id, { error: failure(err) });
      }
    }
    render();
  }

  /** @param {string} id */
  function countersRow(id) {
    const c = opened.get(id);
    const cell = (/** @type {string} */ text) => el('td', { colspan: 10, class: 'small' }, text);
    if (c === null) return el('tr', { class: 'counters' }, cell('Loading counters…'));
    if (c.error)
      return el('tr', { class: 'counters' }, el('td', { colspan: 10, class: 'bad small' }, c.error));
    const refused = Object.entries(c.refused.byReason)
      .map(([code, n]) => `${code} ${n}`)
      .join(', ');
    const seq = c.seq
      ? `seq: published ${number(c.seq.published, 0)}, arrived ${number(c.seq.seen, 0)}, never arrived ${number(c.seq.gaps, 0)}, resent ${number(c.seq.repeated, 0)}`
      : 'seq: not sent by this device';
    return el(
      'tr',
      { class: 'counters', 'data-counters': id },
      cell(
        `Since start: received ${number(c.received, 0)} messages, accepted ${number(c.accepted.values, 0)} values, ` +
          `refused ${number(c.refused.total, 0)}${refused ? ` (${refused})` : ''}, stored ${number(c.stored, 0)} values; ${seq}.`,
      ),
    );
  }

  function render() {
    const now = Date.now();
    body.replaceChildren(
      ...page.items.flatMap((item) => {
        const d = state.devices.get(item.id) || item;
        const s = d.status === 'disabled' || d.removedAt ? 'offline' : deviceState(d, now);
        const latest = state.latest.get(d.id);
        const refused = state.activity.get(d.id)?.refused || {};
        const refusedText = Object.entries(refused)
          .map(([code, n]) => `${code.replace(/^[A-Z]+_/, '')} ${n}`)
          .join(', ');
        const battery = latest?.get('battery');
        const rssi = latest?.get('rssi');
        const rate = readingRate(d.id, now);
        const row = el(
          'tr',
          { 'data-device': d.id },
          el('td', null, el('span', { class: `dot dot-${s}`, title: s })),
          el(
            'td',
            null,
            el('a', { href: `#/series/device/${encodeURIComponent(d.id)}` }, d.name),
            el('div', { class: 'muted small' }, d.id),
          ),
          el('td', null, state.kinds.get(d.kind)?.name || d.kind),
          el('td', null, d.district),
          el(
            'td',
            null,
            d.removedAt
              ? 'decommissioned'
              : d.status === 'disabled'
                ? 'disabled'
                : relativeTime(d.lastSeen, now),
          ),
          el('td', { class: 'num' }, rate === null ? '–' : number(rate, 0)),
          el('td', { class: refusedText ? 'bad small' : 'muted' }, refusedText || '–'),
          el('td', { class: 'num' }, battery ? `${number(battery.value, 0)} %` : '–'),
          el('td', { class: 'num' }, rssi ? `${number(rssi.value, 0)} dBm` : '–'),
          el(
            'td',
            null,
            el(
              'button',
              {
                type: 'button',
                class: 'ghost small',
                'data-action': 'device-counters',
                'aria-expanded': String(opened.has(d.id)),
                onclick: () => toggleCounters(d.id),
              },
              'Counters',
            ),
            admin
              ? el(
                  'button',
                  {
                    type: 'button',
                    class: 'ghost small',
                    'data-action': 'toggle-device',
                    onclick: () => setEnabled(d, d.status === 'disabled'),
                  },
                  d.status === 'disabled' ? 'Enable' : 'Disable',
                )
              : null,
            admin
              ? el(
                  'button',
                  {
                    type: 'button',
                    class: 'ghost small',
                    'data-action': 'manage-device',
                    onclick: () => openEditor(item),
                  },
                  'Manage',
                )
              : null,
          ),
        );
        return opened.has(d.id) ? [row, countersRow(d.id)] : [row];
      }),
    );
    if (page.items.length === 0)
      body.append(el('tr', null, el('td', { colspan: 10, class: 'muted' }, 'No devices match.')));
    info.textContent =
      page.total === 0
        ? '0 devices'
        : `${offset + 1}–${offset + page.items.length} of ${number(page.total, 0)}`;
    prev.disabled = offset === 0;
    next.disabled = offset + PAGE >= page.total;
  }

  load().catch(showLoadError);
  let lastPaint = 0;
  return {
    update(topics) {
      // Live repaint at most once a second: a table of 50 rows does not need 60 frames a second.
      if (!(topics.has('latest') || topics.has('activity') || topics.has('devices'))) return;
      const now = Date.now();
      if (now - lastPaint < 1000) return;
      lastPaint = now;
      render();
    },
    destroy: () => clearTimeout(timer),
  };
}
