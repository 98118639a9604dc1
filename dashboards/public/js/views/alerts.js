// @ts-check
// Alerts: active and recent alerts (acknowledge, clear), and the rules (create, delete). Operators and above
// are offered the actions; viewers see the lists only.

import { api, can } from '../api.js';
import { dateTime, el, number, relativeTime } from '../dom.js';
import { failure } from '../files.js';
import { loadAlerts, state } from '../live.js';

/** @typedef {import('../live.js').AlertItem} AlertItem */
/**
 * A rule as GET /api/alert-rules lists it; the condition's fields depend on its kind.
 * @typedef {{ id: string, name: string, severity: string, condition: Condition, webhookUrl?: string | null,
 *   createdBy: string, repeatWindowMinutes: number }} Rule
 * @typedef {{ kind: string, [field: string]: any }} Condition
 */

/**
 * Alert times arrive as ISO strings from the API and as epoch ms from the live push.
 * @param {number | string | null | undefined} v
 * @returns {number | null}
 */
export const toMs = (v) => (typeof v === 'number' ? v : v ? Date.parse(v) : null);

/** 3 min, 2 h 05 min, 1 d 4 h: how long an alert has been (or was) active. @param {number | null} ms */
export function formatDuration(ms) {
  if (ms === null || !Number.isFinite(ms) || ms < 0) return '';
  const min = Math.floor(ms / 60_000);
  if (min < 1) return 'under a minute';
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 24) return `${h} h ${String(min % 60).padStart(2, '0')} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/**
 * Since it first opened, until it cleared (or now): a repeated alert counts from its first opening, as its
 * repeats are one episode of one condition.
 * @param {AlertItem} a
 * @param {number} [now]
 */
export const alertDuration = (a, now = Date.now()) =>
  (a.state === 'cleared' ? (toMs(a.clearedAt) ?? now) : now) - (toMs(a.openedAt) ?? now);

/**
 * @param {AlertItem} a
 * @param {{ compact?: boolean, onChange?: () => void }} [options]
 */
export function alertRow(a, { compact = false, onChange } = {}) {
  const actions = el('span', { class: 'actions' });
  if (!compact && can('operator') && a.state !== 'cleared') {
    if (a.state === 'open')
      actions.append(
        el(
          'button',
          { type: 'button', 'data-action': 'acknowledge', onclick: () => act(a, 'acknowledge', onChange) },
          'Acknowledge',
        ),
      );
    actions.append(
      el(
        'button',
        { type: 'button', class: 'ghost', 'data-action': 'clear', onclick: () => act(a, 'clear', onChange) },
        'Clear',
      ),
    );
  }
  const who =
    a.state === 'acknowledged'
      ? `acknowledged by ${a.acknowledgedBy} ${relativeTime(toMs(a.acknowledgedAt))}`
      : a.state === 'cleared'
        ? `cleared ${a.clearedBy === 'condition' ? 'by itself' : `by ${a.clearedBy}`} ${relativeTime(toMs(a.clearedAt))}`
        : `opened ${relativeTime(toMs(a.lastOpenedAt ?? a.openedAt))}`;
  const repeats = a.repeatCount ?? 0;
  const duration = formatDuration(alertDuration(a));
  return el(
    'li',
    { class: `alert sev-${a.severity} state-${a.state}`, 'data-alert-id': a.id, 'data-state': a.state },
    el('span', { class: `sev sev-${a.severity}` }, a.severity),
    el(
      'div',
      { class: 'alert-body' },
      el('strong', null, a.ruleName),
      ' ',
      el('span', { class: 'subject' }, a.subject),
      el('div', { class: 'muted small' }, a.message),
      el(
        'div',
        { class: 'small', title: dateTime(toMs(a.openedAt) ?? 0) },
        el('span', { class: `state state-${a.state}` }, a.state),
        ' · ',
        who,
        duration
          ? el(
              'span',
              { 'data-field': 'duration' },
              ` · ${a.state === 'cleared' ? 'lasted' : 'active for'} ${duration}`,
            )
          : null,
        repeats > 0
          ? el(
              'span',
              {
                class: 'repeats',
                'data-field': 'repeats',
                title: `opened again ${repeats} time(s) within the rule's repeat window, first ${dateTime(toMs(a.openedAt) ?? 0)}`,
              },
              ` · repeated ${repeats}×`,
            )
          : null,
      ),
    ),
    actions,
  );
}

/** @param {AlertItem} alert @param {'acknowledge' | 'clear'} action @param {(() => void) | undefined} onChange */
async function act(alert, action, onChange) {
  try {
    const updated = await api(`/api/alerts/${encodeURIComponent(alert.id)}/${action}`, { method: 'POST' });
    state.alerts.set(updated.id, updated);
  } catch (err) {
    window.alert(`Could not ${action}: ${failure(err)}`);
  }
  onChange?.();
}

/** Per condition kind: [field, input type, default (or the options of a select)]. */
/** @type {Record<string, Array<[string, 'select', string[]] | [string, 'text' | 'number', string]>>} */
const CONDITION_FIELDS = {
  'series-threshold': [
    ['scope', 'select', ['district', 'device', 'city']],
    ['metric', 'text', 'pm25'],
    ['op', 'select', ['>', '<']],
    ['value', 'number', '25'],
    ['forMinutes', 'number', '60'],
    ['clearForMinutes', 'number', ''],
    ['clearMargin', 'number', ''],
    ['district', 'text', ''],
  ],
  'kpi-threshold': [
    ['code', 'text', 'EN-EN-AQ-1C'],
    ['op', 'select', ['>', '<']],
    ['value', 'number', ''],
    ['clearMargin', 'number', ''],
  ],
  'stale-device': [
    ['intervals', 'number', '5'],
    ['deviceKind', 'text', ''],
    ['district', 'text', ''],
  ],
  'refused-spike': [
    ['perMinute', 'number', '100'],
    ['clearForMinutes', 'number', ''],
  ],
  'store-backlog': [
    ['values', 'number', '50000'],
    ['clearForMinutes', 'number', ''],
  ],
};

/** @param {() => void} onCreated */
function ruleForm(onCreated) {
  const kind = el(
    'select',
    { name: 'kind' },
    ...Object.keys(CONDITION_FIELDS).map((k) => el('option', { value: k }, k)),
  );
  const fields = el('div', { class: 'form-fields' });
  const error = el('p', { class: 'error', role: 'alert' });
  const name = el('input', { name: 'name', required: true, placeholder: 'PM2.5 high in a district' });
  const severity = el(
    'select',
    { name: 'severity' },
    ...['warning', 'critical', 'info'].map((s) => el('option', { value: s }, s)),
  );
  const webhook = el('input', { name: 'webhookUrl', type: 'url', placeholder: 'https://… (optional)' });
  const repeatWindow = el('input', {
    name: 'repeatWindowMinutes',
    type: 'number',
    min: '0',
    step: '1',
    placeholder: '60 (default)',
  });
  const drawFields = () =>
    fields.replaceChildren(
      ...(CONDITION_FIELDS[kind.value] ?? []).map((spec) =>
        el(
          'label',
          null,
          spec[0],
          spec[1] === 'select'
            ? el('select', { name: spec[0] }, ...spec[2].map((o) => el('option', { value: o }, o)))
            : el('input', {
                name: spec[0],
                type: spec[1] === 'number' ? 'number' : 'text',
                step: 'any',
                value: spec[2],
              }),
        ),
      ),
    );
  kind.addEventListener('change', drawFields);
  drawFields();
  const form = el(
    'form',
    { class: 'rule-form', 'data-testid': 'rule-form' },
    el('label', null, 'name', name),
    el('label', null, 'kind', kind),
    el('label', null, 'severity', severity),
    fields,
    el(
      'label',
      { title: 'a reopening within this many minutes of clearing counts as a repeat' },
      'repeat window (min)',
      repeatWindow,
    ),
    el('label', null, 'webhook', webhook),
    el('button', { type: 'submit' }, 'Create rule'),
    error,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    /** @type {Condition} */
    const condition = { kind: kind.value };
    for (const input of fields.querySelectorAll('input, select')) {
      if (!(input instanceof HTMLInputElement || input instanceof HTMLSelectElement)) continue;
      // Left empty: the rule takes the default (open after 5 min, clear after 5 min past a 5 % margin).
      if (input.value === '') continue;
      condition[input.name] = input.type === 'number' ? Number(input.value) : input.value;
    }
    try {
      await api('/api/alert-rules', {
        method: 'POST',
        body: {
          name: name.value,
          severity: severity.value,
          condition,
          ...(repeatWindow.value === '' ? {} : { repeatWindowMinutes: Number(repeatWindow.value) }),
          ...(webhook.value ? { webhookUrl: webhook.value } : {}),
        },
      });
      error.textContent = '';
      name.value = '';
      onCreated();
    } catch (err) {
      error.textContent = failure(err);
    }
  });
  return form;
}

/** @param {Condition} c */
const describe = (c) => {
  switch (c.kind) {
    case 'series-threshold':
      return `${c.metric} ${c.op} ${c.value} per ${c.scope}${c.district ? ` in ${c.district}` : ''}${c.forMinutes ? ` for ${c.forMinutes} min` : ''}`;
    case 'kpi-threshold':
      return `${c.code} (${c.periodKind}) ${c.op} ${c.value}`;
    case 'stale-device':
      return `no reading for ${c.intervals} intervals${c.deviceKind ? ` (${c.deviceKind})` : ''}${c.district ? ` in ${c.district}` : ''}`;
    case 'refused-spike':
      return `more than ${c.perMinute} refused messages per minute`;
    case 'store-backlog':
      return `store backlog above ${c.values} values`;
    default:
      return c.kind;
  }
};

/** When an alert of the rule clears and when a reopening is a repeat (the rule's hysteresis). @param {Rule} r */
function timing(r) {
  const c = r.condition;
  const parts = [];
  if (c.kind === 'series-threshold' || c.kind === 'kpi-threshold') {
    const margin = c.clearMargin ?? Math.abs(c.value) * 0.05;
    const back = c.op === '>' ? `≤ ${number(c.value - margin, 2)}` : `≥ ${number(c.value + margin, 2)}`;
    parts.push(`${back}${c.clearForMinutes ? ` for ${c.clearForMinutes} min` : ''}`);
  } else if (c.clearForMinutes) {
    parts.push(`after ${c.clearForMinutes} min back under`);
  }
  parts.push(r.repeatWindowMinutes > 0 ? `repeats within ${r.repeatWindowMinutes} min` : 'no repeats');
  return parts.join(' · ');
}

/** @param {HTMLElement} root */
export function alertsView(root) {
  const active = el('ul', { class: 'alert-list', 'data-testid': 'active-alerts' });
  const recent = el('ul', { class: 'alert-list' });
  const rules = el('tbody');
  const problem = el('p', { class: 'error', role: 'alert', 'data-testid': 'alerts-error' });
  /** A failed load is said, not swallowed: the lists may be out of date. @param {string} what */
  const failed = (what) => (/** @type {unknown} */ err) => {
    problem.textContent = `The ${what} could not be loaded: ${failure(err)}`;
  };
  const refresh = () => {
    loadAlerts().catch(failed('active alerts'));
    loadRecent().catch(failed('recently cleared alerts'));
  };
  async function loadRecent() {
    const res = await api('/api/alerts?state=cleared&limit=20');
    recent.replaceChildren(
      ...(res.items.length === 0
        ? [el('li', { class: 'muted' }, 'None.')]
        : res.items.map((/** @type {AlertItem} */ a) => alertRow(a))),
    );
  }
  async function loadRules() {
    const res = await api('/api/alert-rules');
    rules.replaceChildren(
      ...res.items.map((/** @type {Rule} */ r) =>
        el(
          'tr',
          null,
          el('td', null, el('span', { class: `sev sev-${r.severity}` }, r.severity)),
          el('td', null, r.name),
          el('td', null, describe(r.condition)),
          el('td', { class: 'muted small', 'data-field': 'timing' }, timing(r)),
          el('td', { class: 'muted' }, r.webhookUrl ? 'webhook' : ''),
          el('td', { class: 'muted' }, `${r.createdBy}`),
          el(
            'td',
            null,
            can('operator')
              ? el(
                  'button',
                  {
                    type: 'button',
                    class: 'ghost',
                    onclick: async () => {
                      try {
                        await api(`/api/alert-rules/${r.id}`, { method: 'DELETE' });
                      } catch (err) {
                        problem.textContent = `The rule could not be deleted: ${failure(err)}`;
                        return;
                      }
                      loadRules().catch(failed('rules'));
                      refresh();
                    },
                  },
                  'Delete',
                )
              : null,
          ),
        ),
      ),
    );
    if (res.items.length === 0)
      rules.append(el('tr', null, el('td', { colspan: 7, class: 'muted' }, 'No rules yet.')));
  }
  root.append(
    problem,
    el(
      'div',
      { class: 'alerts-grid' },
      el('section', { class: 'card' }, el('h2', null, 'Active alerts'), active),
      el('section', { class: 'card' }, el('h2', null, 'Recently cleared'), recent),
    ),
    el(
      'section',
      { class: 'card' },
      el('h2', null, 'Rules'),
      el(
        'table',
        { class: 'table' },
        el(
          'thead',
          null,
          el('tr', null, ...['', 'Name', 'Condition', 'Clears', '', 'By', ''].map((h) => el('th', null, h))),
        ),
        rules,
      ),
      can('operator')
        ? ruleForm(() => loadRules().catch(failed('rules')))
        : el('p', { class: 'muted small' }, 'Rules are managed by operators.'),
    ),
  );
  loadRecent().catch(failed('recently cleared alerts'));
  loadRules().catch(failed('rules'));
  return {
    /** @param {Set<string>} topics */
    update(topics) {
      if (!topics.has('alerts')) return;
      const items = [...state.alerts.values()]
        .filter((a) => a.state !== 'cleared')
        .sort(
          (a, b) => (toMs(b.lastOpenedAt ?? b.openedAt) ?? 0) - (toMs(a.lastOpenedAt ?? a.openedAt) ?? 0),
        );
      active.replaceChildren(
        ...(items.length === 0
          ? [el('li', { class: 'muted' }, 'No active alerts.')]
          : items.map((a) => alertRow(a, { onChange: refresh }))),
      );
      if ([...state.alerts.values()].some((a) => a.state === 'cleared'))
        loadRecent().catch(failed('recently cleared alerts'));
    },
  };
}
