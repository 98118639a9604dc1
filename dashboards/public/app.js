// @ts-check
// citymetrics operations page: plain JavaScript modules, no build step, no external resources.
// Views are chosen by the URL hash (#/overview, #/devices, #/series, #/snapshot/2026-11, #/kpi/EN-EN-AQ-1C,
// #/alerts, #/manual, #/keys).

import { can, setKey, setRole } from './js/api.js';
import { $, clockTime, el, setTimezone } from './js/dom.js';
import { failure } from './js/files.js';
import { loadTileLayout } from './js/kpi-tiles.js';
import { connect, loadAlerts, loadDevices, loadKpis, onDirty, state } from './js/live.js';
import { alertsView } from './js/views/alerts.js';
import { devicesView } from './js/views/devices.js';
import { keysView } from './js/views/keys.js';
import { kpiView } from './js/views/kpi.js';
import { manualView } from './js/views/manual.js';
import { overviewView } from './js/views/overview.js';
import { seriesView } from './js/views/series.js';
import { snapshotView } from './js/views/snapshot.js';

/** @typedef {{ update?: (topics: Set<string>) => void, destroy?: () => void }} View */
/** @typedef {(root: HTMLElement, args: string[]) => View} ViewFactory */

const KEY_STORAGE = 'citymetrics.apiKey';
/** @type {Record<string, ViewFactory>} */
const VIEWS = {
  overview: overviewView,
  devices: devicesView,
  series: seriesView,
  snapshot: snapshotView,
  kpi: kpiView,
  alerts: alertsView,
  manual: manualView,
  keys: keysView,
};
/** @type {Record<string, string>} */
const MIN_ROLE = { keys: 'admin' };

/** @type {ReturnType<typeof connect> | null} */
let socket = null;
/** @type {{ name: string, instance: View } | null} */
let current = null;
/** @type {ReturnType<typeof setInterval> | undefined} */
let clockTimer;

/** @param {string} id */
const input = (id) => /** @type {HTMLInputElement} */ ($(id));

/**
 * A request the page made by itself (not a click) failed: said on the page until the same one succeeds,
 * never swallowed.
 * @param {string} what
 * @param {unknown} err
 */
function showFailure(what, err) {
  const box = $('page-error');
  box.hidden = false;
  box.dataset.what = what;
  box.textContent = `Refreshing ${what} failed at ${clockTime(Date.now(), false)}: ${failure(err)}. It is retried; what is shown may be out of date.`;
}
/** @param {string} what */
function clearFailure(what) {
  const box = $('page-error');
  if (box.dataset.what === what) box.hidden = true;
}

/** @param {string} [message] */
function showSignIn(message) {
  $('view').hidden = true;
  $('nav').hidden = true;
  $('session').hidden = true;
  $('sign-in-box').hidden = false;
  $('sign-in-error').textContent = message || '';
  $('api-key').focus();
}

/** @param {string} [message] */
function signOut(message) {
  sessionStorage.removeItem(KEY_STORAGE);
  if (socket) socket.close();
  socket = null;
  current?.instance.destroy?.();
  current = null;
  clearInterval(clockTimer);
  showSignIn(message);
}

/** @param {string} text @param {string} cls */
function setConnection(text, cls) {
  const badge = $('connection');
  badge.textContent = text;
  badge.className = `badge ${cls}`;
}

/** @param {string} key */
async function start(key) {
  setKey(key);
  $('sign-in-box').hidden = true;
  setConnection('connecting…', '');
  // The role decides what is offered; the API enforces it regardless.
  socket = connect(key, {
    connection: setConnection,
    signOut,
    failed: showFailure,
    recovered: clearFailure,
    hello(hello) {
      setTimezone(hello.timezone);
      setRole(hello.role);
      $('city').textContent = hello.cityName;
      document.title = `${hello.cityName} · operations`;
      $('who').replaceChildren(
        el('span', null, hello.keyName),
        ' ',
        el('span', { class: `role role-${hello.role}` }, hello.role),
      );
      $('session').hidden = false;
      $('nav').hidden = false;
      for (const link of $('nav').querySelectorAll('a[data-min-role]'))
        if (link instanceof HTMLElement) link.hidden = !can(link.dataset.minRole ?? 'admin');
      if (!current) {
        Promise.all([loadDevices(), loadAlerts(), loadKpis(), loadTileLayout()])
          .catch((err) => setConnection(`cannot load: ${failure(err)}`, 'down'))
          .finally(route);
      } else route();
    },
  });
  clockTimer = setInterval(tickClock, 1000);
  tickClock();
}

function tickClock() {
  $('clock').textContent = clockTime(Date.now(), false);
  const open = [...state.alerts.values()].filter((a) => a.state === 'open').length;
  const count = $('alert-count');
  count.hidden = open === 0;
  count.textContent = String(open);
}

function route() {
  if (!state.hello) return;
  const [, name = 'overview', ...rest] = (location.hash || '#/overview').split('/');
  const viewName = VIEWS[name] ? name : 'overview';
  // a KPI page is reached from the overview's tiles and the snapshot's rows
  const navName = viewName === 'kpi' ? 'overview' : viewName;
  for (const link of $('nav').querySelectorAll('a'))
    link.classList.toggle('active', link.dataset.view === navName);
  // a new page opens at its top (the KPI page is reached from the bottom of the snapshot)
  if (current && current.name !== viewName) window.scrollTo(0, 0);
  current?.instance.destroy?.();
  const root = $('view');
  root.hidden = false;
  root.replaceChildren();
  root.className = `view view-${viewName}`;
  const needed = MIN_ROLE[viewName];
  if (needed && !can(needed)) {
    root.append(
      el(
        'section',
        { class: 'card forbidden', 'data-testid': 'forbidden' },
        el('h2', null, 'Not available'),
        el('p', null, `This view needs the ${needed} role; your key has the ${state.hello.role} role.`),
      ),
    );
    current = { name: viewName, instance: {} };
    return;
  }
  const instance = (VIEWS[viewName] ?? overviewView)(root, rest);
  current = { name: viewName, instance };
  instance.update?.(new Set(['devices', 'latest', 'stats', 'alerts', 'kpis', 'activity']));
}

onDirty((topics) => current?.instance.update?.(topics));
window.addEventListener('hashchange', route);

$('sign-in').addEventListener('submit', async (event) => {
  event.preventDefault();
  const key = input('api-key').value.trim();
  if (!key) return;
  input('api-key').value = '';
  sessionStorage.setItem(KEY_STORAGE, key);
  start(key);
});
$('sign-out').addEventListener('click', () => signOut());

const saved = sessionStorage.getItem(KEY_STORAGE);
if (saved) start(saved);
else showSignIn();

// For the views: refresh KPI values every minute (pushes cover changes; this catches a missed push).
setInterval(() => {
  if (state.hello && state.kpiAvailable)
    loadKpis().then(
      () => clearFailure('KPI values'),
      (err) => showFailure('KPI values', err),
    );
}, 60_000);
