// citymetrics live page: plain JavaScript, no build step, no external resources.
// Every piece of data reaches the page through textContent, never innerHTML: device names and districts are
// typed by people and must not become markup.

(() => {
  const KEY_STORAGE = 'citymetrics.apiKey';
  const MAX_DEVICES = 5000; // devices loaded for the tiles; a larger city still gets live values as they arrive

  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs, ...children) => {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (name === 'class') node.className = value;
      else node.setAttribute(name, value);
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  };

  const state = {
    socket: null,
    timezone: undefined,
    kinds: new Map(), // id → kind
    devices: new Map(), // id → { id, name, kind, district, online }
    latest: new Map(), // deviceId → Map(metric → { value, ts, unit })
    stats: null,
    refusedRecent: {},
    open: new Set(), // "district|kind" whose device list is unfolded
    dirty: false,
  };

  // ---- sign-in ----

  function showSignIn(message) {
    $('dashboard').hidden = true;
    $('session').hidden = true;
    $('sign-in-box').hidden = false;
    $('sign-in-error').textContent = message || '';
    $('api-key').focus();
  }

  function signOut(message) {
    sessionStorage.removeItem(KEY_STORAGE);
    if (state.socket) state.socket.close();
    state.socket = null;
    showSignIn(message);
  }

  $('sign-in').addEventListener('submit', (event) => {
    event.preventDefault();
    const key = $('api-key').value.trim();
    if (!key) return;
    sessionStorage.setItem(KEY_STORAGE, key);
    $('api-key').value = '';
    start(key);
  });
  $('sign-out').addEventListener('click', () => signOut());

  // ---- REST ----

  async function api(path, key) {
    const res = await fetch(path, { headers: { Authorization: `Bearer ${key}` } });
    const body = await res.json().catch(() => null);
    if (!res.ok) {
      const error = new Error(body?.error?.message || res.statusText);
      error.code = body?.error?.code;
      throw error;
    }
    return body;
  }

  async function loadDevices(key) {
    const kinds = await api('/api/device-kinds', key);
    for (const kind of kinds.items) state.kinds.set(kind.id, kind);
    for (let offset = 0; offset < MAX_DEVICES; offset += 1000) {
      const page = await api(`/api/devices?limit=1000&offset=${offset}`, key);
      for (const d of page.items) {
        state.devices.set(d.id, {
          id: d.id,
          name: d.name,
          kind: d.kind,
          district: d.district,
          online: d.online,
        });
      }
      if (offset + page.items.length >= page.total) break;
    }
  }

  // ---- live ----

  async function start(key) {
    $('sign-in-box').hidden = true;
    $('session').hidden = false;
    $('dashboard').hidden = false;
    setConnection('connecting…', '');
    try {
      await loadDevices(key);
    } catch (err) {
      if (err.code === 'API_UNAUTHENTICATED') return signOut('That key was not accepted.');
      setConnection(`cannot load devices: ${err.message}`, 'down');
    }
    markDirty();
    connect(key);
  }

  function connect(key) {
    // The socket.io client is served by this server at /socket.io/socket.io.js.
    const socket = io({ path: '/socket.io', auth: { token: key } });
    state.socket = socket;
    socket.on('connect', () => setConnection('live', 'live'));
    let revoked = false;
    socket.on('revoked', () => {
      revoked = true;
      signOut('This API key was revoked.');
    });
    socket.on('disconnect', (reason) => {
      if (revoked) return;
      setConnection('reconnecting…', 'down');
      // socket.io retries by itself except when the server closed the session (a restart): retry then too.
      if (reason === 'io server disconnect') {
        setTimeout(() => {
          if (state.socket === socket) socket.connect();
        }, 2000);
      }
    });
    socket.on('connect_error', (err) => {
      const code = err?.data?.code;
      if (code === 'API_UNAUTHENTICATED') return signOut('That key was not accepted.');
      if (code === 'API_RATE_LIMITED')
        return signOut('Too many failed sign-ins from this address; try again later.');
      setConnection('offline, retrying…', 'down');
    });
    socket.on('hello', (hello) => {
      $('city').textContent = hello.cityName;
      document.title = `${hello.cityName} · citymetrics live`;
      $('who').textContent = `${hello.keyName} (${hello.role})`;
      state.timezone = hello.timezone;
    });
    socket.on('snapshot', (msg) => {
      state.latest.clear();
      applyLatest(msg.items);
    });
    socket.on('latest', (msg) => applyLatest(msg.items));
    socket.on('device-status', (msg) => {
      for (const s of msg.items) {
        const device = ensureDevice(s.deviceId, s.kind, s.district);
        device.online = s.online;
      }
      markDirty();
    });
    socket.on('refused', (msg) => {
      state.refusedRecent = msg.byReason || {};
      renderRefused();
    });
    socket.on('stats', (stats) => {
      state.stats = stats;
      renderStats();
    });
  }

  function ensureDevice(id, kind, district) {
    let device = state.devices.get(id);
    if (!device) {
      device = { id, name: id, kind: kind || 'unknown', district: district || 'unknown', online: true };
      state.devices.set(id, device);
    }
    return device;
  }

  function applyLatest(items) {
    for (const item of items) {
      ensureDevice(item.deviceId, item.kind, item.district);
      let metrics = state.latest.get(item.deviceId);
      if (!metrics) {
        metrics = new Map();
        state.latest.set(item.deviceId, metrics);
      }
      const current = metrics.get(item.metric);
      if (!current || current.ts <= item.ts)
        metrics.set(item.metric, { value: item.value, ts: item.ts, unit: item.unit });
    }
    markDirty();
  }

  function setConnection(text, cls) {
    const badge = $('connection');
    badge.textContent = text;
    badge.className = `badge ${cls}`;
  }

  // ---- rendering ----

  const number = (v, digits) =>
    typeof v === 'number' && Number.isFinite(v)
      ? v.toLocaleString(undefined, { maximumFractionDigits: digits === undefined ? 1 : digits })
      : '–';

  const time = (ts) => {
    try {
      return new Date(ts).toLocaleTimeString(undefined, { timeZone: state.timezone });
    } catch {
      return new Date(ts).toLocaleTimeString();
    }
  };

  function markDirty() {
    if (state.dirty) return;
    state.dirty = true;
    requestAnimationFrame(() => {
      state.dirty = false;
      renderDistricts();
      renderDeviceCounts();
    });
  }

  function renderStats() {
    const s = state.stats;
    if (!s) return;
    $('accepted-rate').textContent = number(s.rates?.acceptedPerSec);
    $('refused-rate').textContent = number(s.rates?.refusedPerSec);
    $('accepted-total').textContent = s.accepted ? `${number(s.accepted.values, 0)} values since start` : '';
    $('refused-total').textContent = s.refused ? `${number(s.refused.total, 0)} since start` : '';
    $('backlog').textContent = number(typeof s.backlog === 'number' ? s.backlog : s.backlog?.values, 0);
    const store = s.store || s.storeHealth;
    $('store-health').textContent = store
      ? store.ok
        ? 'store healthy'
        : `store: ${store.detail || 'unhealthy'}`
      : '';
    renderRefused();
  }

  function renderRefused() {
    const total = state.stats?.refused?.byReason || {};
    const codes = [...new Set([...Object.keys(total), ...Object.keys(state.refusedRecent)])].sort();
    const body = $('refused-table').tBodies[0];
    body.replaceChildren(
      ...codes.map((code) =>
        el(
          'tr',
          null,
          el('td', null, el('code', null, code)),
          el('td', { class: 'num' }, number(total[code], 0)),
          el('td', { class: 'num' }, number(state.refusedRecent[code] || 0, 0)),
        ),
      ),
    );
    $('refused-none').hidden = codes.length > 0;
    $('refused-table').hidden = codes.length === 0;
  }

  function renderDeviceCounts() {
    let online = 0;
    for (const d of state.devices.values()) if (d.online) online++;
    $('devices-online').textContent = number(online, 0);
    $('devices-total').textContent = `of ${number(state.devices.size, 0)}`;
  }

  function renderDistricts() {
    // district → kind → devices
    const tree = new Map();
    for (const device of state.devices.values()) {
      if (!tree.has(device.district)) tree.set(device.district, new Map());
      const kinds = tree.get(device.district);
      if (!kinds.has(device.kind)) kinds.set(device.kind, []);
      kinds.get(device.kind).push(device);
    }
    const sections = [...tree.keys()].sort().map((district) => {
      const kinds = tree.get(district);
      const tiles = [...kinds.keys()].sort().map((kindId) => renderTile(district, kindId, kinds.get(kindId)));
      return el(
        'section',
        { class: 'district' },
        el('h2', null, district),
        el('div', { class: 'grid' }, ...tiles),
      );
    });
    if (sections.length === 0) sections.push(el('p', { class: 'muted' }, 'No devices yet.'));
    $('districts').replaceChildren(...sections);
  }

  function renderTile(district, kindId, devices) {
    const kind = state.kinds.get(kindId);
    const online = devices.filter((d) => d.online).length;
    // Per metric: mean of each device's latest value, and the newest timestamp among them.
    const metrics = new Map();
    for (const device of devices) {
      const latest = state.latest.get(device.id);
      if (!latest) continue;
      for (const [metric, v] of latest) {
        const agg = metrics.get(metric) || { sum: 0, n: 0, ts: 0, unit: v.unit };
        agg.sum += v.value;
        agg.n += 1;
        agg.ts = Math.max(agg.ts, v.ts);
        metrics.set(metric, agg);
      }
    }
    const rows = [];
    for (const metric of [...metrics.keys()].sort()) {
      const agg = metrics.get(metric);
      const label = agg.n > 1 ? `${metric} (mean of ${agg.n})` : metric;
      rows.push(
        el('span', { title: `newest reading ${time(agg.ts)}` }, label),
        el('span', { class: 'value' }, number(agg.sum / agg.n, 2)),
        el('span', { class: 'unit' }, agg.unit || ''),
      );
    }
    const key = `${district}|${kindId}`;
    const details = el(
      'details',
      state.open.has(key) ? { open: '' } : null,
      el('summary', null, `${devices.length} device${devices.length === 1 ? '' : 's'}`),
      el('table', null, el('tbody', null, ...devices.map(renderDeviceRow))),
    );
    details.addEventListener('toggle', () => (details.open ? state.open.add(key) : state.open.delete(key)));
    return el(
      'div',
      { class: 'card tile' },
      el('h3', null, kind ? kind.name : kindId),
      el('p', { class: 'online' }, `${online} of ${devices.length} online`),
      rows.length > 0
        ? el('div', { class: 'metrics' }, ...rows)
        : el('p', { class: 'muted' }, 'no values yet'),
      details,
    );
  }

  function renderDeviceRow(device) {
    const latest = state.latest.get(device.id);
    const values = latest
      ? [...latest]
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([metric, v]) => `${metric} ${number(v.value, 2)}${v.unit ? ` ${v.unit}` : ''}`)
          .join(' · ')
      : '';
    return el(
      'tr',
      null,
      el(
        'td',
        null,
        el('span', { class: device.online ? 'dot on' : 'dot', title: device.online ? 'online' : 'offline' }),
        device.name,
      ),
      el('td', { class: 'muted' }, values),
    );
  }

  // ---- boot ----

  const saved = sessionStorage.getItem(KEY_STORAGE);
  if (saved) start(saved);
  else showSignIn();
})();
