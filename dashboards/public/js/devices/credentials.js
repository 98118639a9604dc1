// @ts-check
// A device's new password, shown once (after provisioning or rotation): a mosquitto_pub line that works as
// it is, a copy button and a credentials file. The connection details come from the API (the broker's
// real host and ports, the device's real topic), never from guesses in the page.

import { api } from '../api.js';
import { el } from '../dom.js';
import { copyText, failure, saveFile } from '../files.js';
import { state } from '../live.js';

/**
 * @typedef {{ deviceId: string, username: string, clientId: string, host: string | null,
 *   ports: { mqtt: number | null, mqtts: number | null, ws: number | null },
 *   topics: { telemetry: string, events: string, status: string, errors: string, commands: string } }} Connection
 * @typedef {{ name: string, unit: string, min: number, max: number }} MetricSpec
 */

/** The broker host a device should use: the API's, or this page's when the broker listens everywhere. */
export const brokerHost = (/** @type {Connection} */ conn) => conn.host ?? location.hostname;

/**
 * A plausible reading for the example: a tenth into the kind's range, so that it passes the range check.
 * @param {string} kindId
 * @returns {Record<string, number>}
 */
function exampleValues(kindId) {
  const kind = state.kinds.get(kindId);
  /** @type {MetricSpec | undefined} */
  const metric =
    kind?.metrics?.find((/** @type {MetricSpec} */ m) => m.name !== 'battery') ?? kind?.metrics?.[0];
  if (!metric) return {};
  return { [metric.name]: Math.round((metric.min + (metric.max - metric.min) / 10) * 10) / 10 };
}

/**
 * A shell line that publishes one reading now, QoS 1 (the broker acknowledges once it is logged). Over TLS
 * when the broker offers it: the password then never crosses the network in clear.
 * @param {Connection} conn
 * @param {string} password
 * @param {string} kindId
 * @returns {string | null} null when this API node knows no MQTT port
 */
export function mosquittoSnippet(conn, password, kindId) {
  const values = JSON.stringify(exampleValues(kindId)).replace(/"/g, '\\"');
  const tls = conn.ports.mqtts !== null;
  const port = tls ? conn.ports.mqtts : conn.ports.mqtt;
  if (port === null) return null;
  return [
    // a broker certificate from a private CA: --cafile its-ca.pem instead of --capath
    `mosquitto_pub -h ${brokerHost(conn)} -p ${port}${tls ? ' --capath /etc/ssl/certs' : ''} -q 1 \\`,
    `  -i ${conn.clientId} -u ${conn.username} -P '${password}' \\`,
    `  -t ${conn.topics.telemetry} \\`,
    `  -m "{\\"ts\\": $(date +%s%3N), \\"values\\": ${values}}"`,
  ].join('\n');
}

/**
 * @param {Connection} conn
 * @param {string} password
 */
function credentialsFile(conn, password) {
  const body = {
    deviceId: conn.deviceId,
    username: conn.username,
    password,
    clientId: conn.clientId,
    host: brokerHost(conn),
    ports: conn.ports,
    topics: conn.topics,
  };
  return new Blob([`${JSON.stringify(body, null, 2)}\n`], { type: 'application/json' });
}

/**
 * The card with a password shown once. `what` says why it is shown ("provisioned", "new password").
 * @param {{ id: string, kind: string, name: string }} device
 * @param {string} password
 * @param {string} what
 * @returns {HTMLElement}
 */
export function credentialsCard(device, password, what) {
  const snippet = el(
    'pre',
    { class: 'snippet', 'data-testid': 'connection-snippet' },
    'Loading the connection details…',
  );
  const status = el('p', { class: 'small muted', role: 'status' });
  const copy = el(
    'button',
    { type: 'button', class: 'ghost small', 'data-action': 'copy-snippet', disabled: true },
    'Copy',
  );
  const download = el(
    'button',
    { type: 'button', class: 'ghost small', 'data-action': 'download-credentials', disabled: true },
    'Download credentials file',
  );
  const card = el(
    'section',
    { class: 'card credentials', 'data-testid': 'credentials', 'data-device': device.id },
    el(
      'div',
      { class: 'card-head' },
      el('h2', null, `${device.name}: ${what}`),
      el('button', { type: 'button', class: 'ghost small', onclick: () => card.remove() }, 'Done, hide it'),
    ),
    el(
      'p',
      null,
      'Password (shown only now; the platform keeps only its hash): ',
      el('code', { 'data-testid': 'device-password' }, password),
    ),
    snippet,
    el('div', { class: 'actions' }, copy, download),
    status,
  );
  api(`/api/devices/${encodeURIComponent(device.id)}/connection`)
    .then((/** @type {Connection} */ conn) => {
      const text = mosquittoSnippet(conn, password, device.kind);
      download.disabled = false;
      download.addEventListener('click', () =>
        saveFile(credentialsFile(conn, password), `${device.id}-credentials.json`),
      );
      if (text === null) {
        snippet.textContent = `This API node knows no MQTT port: ask the operators where the broker listens. Topic: ${conn.topics.telemetry}`;
        return;
      }
      snippet.textContent = text;
      copy.disabled = false;
      copy.addEventListener('click', async () => {
        status.textContent = (await copyText(text))
          ? 'Copied.'
          : 'Copying was refused by the browser: select the text instead.';
      });
    })
    .catch((err) => {
      snippet.textContent = '';
      status.className = 'error';
      status.textContent = `The connection details could not be loaded: ${failure(err)}. The password above is still valid.`;
    });
  return card;
}
