import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../helpers/platform-harness.ts';
import { findServerBinary } from '../servers/process-server.ts';
import {
  type Browser,
  HAVE_CHROMIUM,
  launchBrowser,
  screenshot,
  signIn,
  TABLET,
  WIDE,
} from './browser-harness.ts';

/**
 * Device administration and manual inputs on the operations page, in a real browser against the whole
 * platform: what the page shows is used as it is (a password read off the page logs a real MQTT client in).
 * Waits are playwright's (selectors with a deadline) and vitest's expect.poll, never sleeps.
 */

let t: TestPlatform;
let browser: Browser;
let viewer: string;
let analyst: string;

interface Device {
  id: string;
  name: string;
  status: string;
  removedAt: string | null;
  attributes: Record<string, unknown>;
}

/** Connects with mqtt.js and answers how it went: 'connected' or the CONNACK refusal's code. */
async function tryConnect(id: string, password: string): Promise<string> {
  const client = mqtt.connect(t.addresses.mqttUrl, {
    username: id,
    password,
    clientId: id,
    reconnectPeriod: 0,
  });
  try {
    return await new Promise<string>((resolve) => {
      client.once('connect', () => resolve('connected'));
      client.once('error', (err) => resolve(`refused ${(err as { code?: number }).code}`));
    });
  } finally {
    await client.endAsync(true);
  }
}

const device = async (id: string) => (await t.api<Device>('GET', `/api/devices/${id}`)).body;

/** Accepts the page's confirm() prompts. */
const acceptDialogs = (page: Page) => page.on('dialog', (d) => void d.accept());

async function openEditor(page: Page, id: string) {
  await page.locator(`tr[data-device="${id}"] [data-action=manage-device]`).click();
  await page.locator(`[data-testid=device-editor][data-device="${id}"]`).waitFor();
}

describe.skipIf(!HAVE_CHROMIUM)('devices and manual inputs on the operations page', () => {
  let provisioned: { id: string; password: string };

  beforeAll(async () => {
    t = await startTestPlatform({ livePushIntervalMs: 200, cityName: 'Demo City' });
    viewer = (await t.platform.apiKeys.create({ role: 'viewer', name: 'wall display' })).token;
    analyst = (await t.platform.apiKeys.create({ role: 'analyst', name: 'statistics office' })).token;
    for (const [kind, district] of [
      ['noise-monitor', 'Old Town'],
      ['air-quality-station', 'Riverside'],
      ['water-quality-sonde', 'Harbour'],
    ] as const)
      await t.provision(kind, district);
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  }, 60_000);

  it('provisions a device, whose shown password and snippet connect a real MQTT client and store a reading', async () => {
    const page = await browser.newPage(WIDE);
    await signIn(page, t.addresses.httpUrl, t.adminToken, '#/devices');
    await page.locator('[data-action=provision-device]').click();
    const form = page.locator('[data-testid=provision-form]');
    await form.locator('select[name=kind]').selectOption('air-quality-station');
    await form.locator('input[name=district]').fill('Test Quarter');
    await form.locator('input[name=name]').fill('Market square station');
    await form.locator('input[name="attr.pollutants"]').fill('pm25,no2');
    await form.locator('button[type=submit]').click();

    const card = page.locator('[data-testid=credentials]');
    await card.waitFor();
    const id = (await card.getAttribute('data-device'))!;
    const password = (await card.locator('[data-testid=device-password]').textContent())!;
    provisioned = { id, password };
    const snippet = card.locator('[data-testid=connection-snippet]');
    await expect.poll(() => snippet.textContent()).toContain('mosquitto_pub');
    const text = (await snippet.textContent())!;
    // The broker's real host and listened port, the device's own topic and credentials.
    expect(text).toContain(`-h 127.0.0.1 -p ${t.addresses.mqttPort}`);
    expect(text).toContain(`-i ${id} -u ${id} -P '${password}'`);
    expect(text).toContain(`-t devices/${id}/telemetry`);
    expect(await device(id)).toMatchObject({
      name: 'Market square station',
      attributes: { pollutants: 'pm25,no2' },
    });

    // The credentials file holds the same password.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      card.locator('[data-action=download-credentials]').click(),
    ]);
    expect(download.suggestedFilename()).toBe(`${id}-credentials.json`);
    const file = JSON.parse(readFileSync((await download.path())!, 'utf8')) as Record<string, unknown>;
    expect(file).toMatchObject({
      deviceId: id,
      username: id,
      password,
      ports: { mqtt: t.addresses.mqttPort },
    });

    const client = await t.connect(id, password);
    await client.publishAsync(
      `devices/${id}/telemetry`,
      JSON.stringify({ ts: Date.now(), values: { pm25: 17.5 } }),
      { qos: 1 },
    );
    await expect
      .poll(
        async () =>
          (
            await t.api<{ values: Array<{ metric: string; value: number }> }>(
              'GET',
              `/api/devices/${id}/latest`,
            )
          ).body.values,
      )
      .toEqual([expect.objectContaining({ metric: 'pm25', value: 17.5 })]);
    await client.endAsync(true);

    // The snippet itself, run as shown: Debian's mosquitto_pub publishes the kind's example reading.
    const mosquittoPub = findServerBinary('/usr/bin/mosquitto_pub', 'mosquitto-clients');
    if (mosquittoPub !== null) {
      await promisify(execFile)('bash', ['-c', text], { timeout: 10_000 });
      await expect
        .poll(
          async () =>
            (
              await t.api<{ values: Array<{ metric: string; value: number }> }>(
                'GET',
                `/api/devices/${id}/latest`,
              )
            ).body.values,
        )
        .toEqual([expect.objectContaining({ metric: 'pm25', value: 100 })]);
    }

    await page.locator(`tr[data-device="${id}"]`).waitFor();
    await screenshot(page, 'devices-admin');
    await page.close();
  });

  it('says on the page when the API refuses a provisioning', async () => {
    const page = await browser.newPage(WIDE);
    await signIn(page, t.addresses.httpUrl, t.adminToken, '#/devices');
    await page.locator('[data-action=provision-device]').click();
    const form = page.locator('[data-testid=provision-form]');
    await form.locator('select[name=kind]').selectOption('noise-monitor');
    await form.locator('input[name=district]').fill('Old Town');
    await form.locator('input[name=id]').fill(provisioned.id);
    await form.locator('button[type=submit]').click();
    await expect
      .poll(() => page.locator('[data-testid=provision-error]').textContent())
      .toContain('API_CONFLICT');
    await page.close();
  });

  it('edits a device and its install date; disabling refuses its connection, a new password replaces the old', async () => {
    const page = await browser.newPage(WIDE);
    acceptDialogs(page);
    await signIn(page, t.addresses.httpUrl, t.adminToken, '#/devices');
    const { id, password } = provisioned;
    await openEditor(page, id);
    const editor = page.locator('[data-testid=device-editor]');
    await editor.locator('input[name=name]').fill('Market square (north)');
    await editor.locator('input[name=lat]').fill('48.2');
    await editor.locator('input[name=lon]').fill('16.37');
    // an earlier install date: the device's one reading stays inside the interval
    await editor.locator('input[name=installedAt]').fill('2026-01-15T08:00');
    await editor.locator('[data-action=save-device]').click();
    await expect.poll(() => page.locator('[data-testid=editor-notice]').textContent()).toBe('Saved.');
    const edited = await t.api<Device & { location: unknown; installedAt: string }>(
      'GET',
      `/api/devices/${id}`,
    );
    expect(edited.body).toMatchObject({ name: 'Market square (north)', location: { lat: 48.2, lon: 16.37 } });
    expect(Date.parse(edited.body.installedAt)).toBe(
      await page.evaluate(() => new Date('2026-01-15T08:00').getTime()),
    );

    await page.locator('[data-testid=device-editor] [data-action=disable-device]').click();
    await page.locator('[data-testid=device-editor] [data-action=enable-device]').waitFor();
    expect((await device(id)).status).toBe('disabled');
    // CONNACK 5, not authorized: a disabled device is refused
    expect(await tryConnect(id, password)).toBe('refused 5');

    await page.locator('[data-testid=device-editor] [data-action=enable-device]').click();
    await page.locator('[data-testid=device-editor] [data-action=disable-device]').waitFor();
    expect(await tryConnect(id, password)).toBe('connected');

    await page.locator('[data-testid=device-editor] [data-action=rotate-password]').click();
    const rotated = page.locator('[data-testid=credentials]', { hasText: 'new password' });
    await rotated.waitFor();
    const fresh = (await rotated.locator('[data-testid=device-password]').textContent())!;
    expect(fresh).not.toBe(password);
    expect(await tryConnect(id, password)).toBe('refused 4');
    expect(await tryConnect(id, fresh)).toBe('connected');
    await page.close();
  });

  it('decommissions a device: its interval ends and its credentials stop working', async () => {
    const page = await browser.newPage(WIDE);
    acceptDialogs(page);
    const target = await t.provision('noise-monitor', 'Harbour');
    await signIn(page, t.addresses.httpUrl, t.adminToken, '#/devices');
    await openEditor(page, target.id);
    await page.locator('[data-testid=device-editor] [data-action=decommission-device]').click();
    await expect
      .poll(() => page.locator('[data-testid=editor-notice]').textContent())
      .toBe('Decommissioned.');
    expect((await device(target.id)).removedAt).not.toBeNull();
    expect(await tryConnect(target.id, target.password)).toMatch(/^refused/);
    await page.locator(`tr[data-device="${target.id}"]`, { hasText: 'decommissioned' }).waitFor();
    await page.close();
  });

  it('provisions from a CSV: the bad row is named by row and column, the others are created, their passwords saved once', async () => {
    const page = await browser.newPage(WIDE);
    await signIn(page, t.addresses.httpUrl, t.adminToken, '#/devices');
    await page.locator('[data-action=bulk-provision]').click();
    const csv = [
      'kind,district,id,name,attributes.customersServed',
      'electricity-feeder-meter,Harbour,feeder-h1,Harbour substation,1200',
      'electricity-feeder-meter,Harbour,feeder-h2,Quay substation,many',
      'noise-monitor,Old Town,noise-town-hall,Town hall square,',
    ].join('\n');
    await page.locator('[data-testid=bulk-form] input[type=file]').setInputFiles({
      name: 'fleet.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(csv),
    });
    await page.locator('[data-testid=bulk-form] button[type=submit]').click();
    await expect
      .poll(() => page.locator('[data-testid=bulk-summary]').textContent())
      .toBe('2 provisioned, 1 row refused.');
    const bad = page.locator('[data-testid=bulk-errors] tbody tr');
    expect(await bad.count()).toBe(1);
    expect(await bad.getAttribute('data-row')).toBe('3');
    expect(await bad.getAttribute('data-column')).toBe('attributes.customersServed');
    expect(await bad.textContent()).toContain('"many" is not a number');
    expect((await t.api('GET', '/api/devices/feeder-h1')).status).toBe(200);
    expect((await t.api('GET', '/api/devices/noise-town-hall')).status).toBe(200);
    expect((await t.api('GET', '/api/devices/feeder-h2')).status).toBe(404);

    const save = page.locator('[data-action=download-bulk-credentials]');
    const [download] = await Promise.all([page.waitForEvent('download'), save.click()]);
    expect(download.suggestedFilename()).toBe('device-credentials.csv');
    const lines = readFileSync((await download.path())!, 'utf8')
      .trim()
      .split(/\r\n/);
    expect(lines[0]).toBe('row,id,kind,name,district,username,password,telemetry_topic');
    const [, id, , , , , password] = lines[1]!.split(',');
    expect(id).toBe('feeder-h1');
    expect(await tryConnect(id!, password!)).toBe('connected');
    expect(lines).toHaveLength(3);
    // once: the page has forgotten them
    expect(await save.isDisabled()).toBe(true);
    await screenshot(page, 'devices-bulk');
    // On a tablet the forms and tables reflow (wide tables scroll inside their card, never the page).
    await page.setViewportSize(TABLET);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(TABLET.width);
    await screenshot(page, 'devices-bulk-tablet');
    await page.close();
  });

  it('offers a viewer no management action, on devices or manual inputs', async () => {
    const page = await browser.newPage();
    await signIn(page, t.addresses.httpUrl, viewer, '#/devices');
    await page.locator('[data-testid=devices-table] tbody tr[data-device]').first().waitFor();
    for (const action of ['provision-device', 'bulk-provision', 'manage-device', 'toggle-device'])
      expect([action, await page.locator(`[data-action=${action}]`).count()]).toEqual([action, 0]);
    await page.goto(`${t.addresses.httpUrl}/#/manual`);
    await page.locator('[data-testid=manual-values]').waitFor();
    expect(await page.locator('[data-testid=manual-form]').count()).toBe(0);
    expect(await page.locator('[data-testid=import-form]').count()).toBe(0);
    // and the API refuses it regardless of the page
    const refused = await t.api('POST', '/api/devices', { kind: 'noise-monitor', district: 'x' }, viewer);
    expect(refused.status).toBe(403);
    await page.close();
  });

  it('enters a manual value with its evidence and lists it', async () => {
    const page = await browser.newPage(WIDE);
    await signIn(page, t.addresses.httpUrl, analyst, '#/manual');
    const form = page.locator('[data-testid=manual-form]');
    await form.locator('select[name=kpi]').selectOption('SC-EH-ED-1C');
    await expect.poll(() => form.locator('input[name=unit]').inputValue()).toBe('%');
    await form.locator('input[name=period]').fill('2025');
    await form.locator('input[name=value]').fill('95.5');
    await form.locator('select[name=dataQuality]').selectOption('accurate-measurement');
    await form.locator('input[name=source]').fill('National census 2025');
    await form.locator('input[name=evidence]').fill('https://example.org/census-2025');
    await form.locator('button[type=submit]').click();
    const row = page.locator('[data-testid=manual-values] tr', { hasText: 'National census 2025' });
    await row.waitFor();
    expect(await row.textContent()).toContain('95.5 %');
    expect(await row.locator('a').getAttribute('href')).toBe('https://example.org/census-2025');
    expect(await row.textContent()).toContain('statistics office');

    // A refused value says why on the page.
    await form.locator('input[name=unit]').fill('km');
    await form.locator('button[type=submit]').click();
    await expect
      .poll(() => page.locator('[data-testid=manual-error]').textContent())
      .toMatch(/^Not entered: .*METRICS_UNIT_MISMATCH/);
    await page.close();
  });

  it('downloads the template and imports a sheet, naming the bad row and column', async () => {
    const page = await browser.newPage(WIDE);
    await signIn(page, t.addresses.httpUrl, analyst, '#/manual');
    const [template] = await Promise.all([
      page.waitForEvent('download'),
      page.click('[data-action=template-csv]'),
    ]);
    expect(template.suggestedFilename()).toBe('manual-inputs-template.csv');
    expect(readFileSync((await template.path())!, 'utf8')).toContain('code,data_point,period,value');

    const upload = (text: string) =>
      page.locator('[data-testid=import-form] input[type=file]').setInputFiles({
        name: 'manual.csv',
        mimeType: 'text/csv',
        buffer: Buffer.from(text),
      });
    await upload(
      'code,period,value,unit,data_quality,source\n' +
        'SC-EH-ED-1C,2024,94,%,accurate-measurement,census 2024\n' +
        'SC-EH-ED-1C,2023,ninety,%,accurate-measurement,census 2023\n',
    );
    await page.locator('[data-testid=import-form] button[type=submit]').click();
    const bad = page.locator('[data-testid=import-errors] tbody tr');
    await bad.first().waitFor();
    expect(await bad.count()).toBe(1);
    expect([await bad.getAttribute('data-row'), await bad.getAttribute('data-column')]).toEqual([
      '3',
      'value',
    ]);
    expect(await page.locator('[data-testid=import-error]').textContent()).toContain(
      'METRICS_IMPORT_INVALID',
    );
    // all or nothing: the good row was not kept either
    expect(await page.locator('[data-testid=manual-values] tr', { hasText: 'census 2024' }).count()).toBe(0);

    await upload(
      'code,period,value,unit,data_quality,source\nSC-EH-ED-1C,2024,94,%,accurate-measurement,census 2024\n',
    );
    await page.locator('[data-testid=import-form] button[type=submit]').click();
    await expect
      .poll(() => page.locator('[data-testid=import-summary]').textContent())
      .toBe('1 value imported.');
    await page.locator('[data-testid=manual-values] tr', { hasText: 'census 2024' }).waitFor();
    await screenshot(page, 'manual-inputs');
    await page.setViewportSize(TABLET);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(TABLET.width);
    await page.close();
  });

  it('had no console errors but the refusals the tests asked for', () => {
    // The browser logs every non-2xx answer; those the tests provoked on purpose are expected.
    const unexpected = browser.errors.filter(
      (e) => !/Failed to load resource: the server responded with a status of (400|409)/.test(e),
    );
    expect(unexpected).toEqual([]);
  });
});
