import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalogue } from '../../metrics/catalogue/catalogue.ts';
import type { Simulation } from '../../simulators/simulation.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/platform-harness.ts';
import {
  type Browser,
  HAVE_CHROMIUM,
  launchBrowser,
  screenshot,
  signIn,
  simulateCity,
  TABLET,
  WIDE,
} from './browser-harness.ts';

/**
 * The operations page in a real browser (Debian's chromium through playwright-core) against the whole
 * platform with a simulated city. Waits are playwright's (selectors and text with a deadline), never sleeps.
 */

let t: TestPlatform;
let browser: Browser;
let simulation: Simulation;
let viewer: string;
let operator: string;
let probe: { id: string; client: MqttClient };

const currentMonth = () => new Date().toISOString().slice(0, 7); // the test platform's city zone is UTC

describe.skipIf(!HAVE_CHROMIUM)('operations page', () => {
  beforeAll(async () => {
    t = await startTestPlatform({ livePushIntervalMs: 200, cityName: 'Demo City' });
    viewer = (await t.platform.apiKeys.create({ role: 'viewer', name: 'wall display' })).token;
    operator = (await t.platform.apiKeys.create({ role: 'operator', name: 'duty officer' })).token;
    const device = await t.provision('air-quality-station', 'Test Quarter');
    probe = { id: device.id, client: await t.connect(device.id, device.password) };
    simulation = await simulateCity(t, 60);
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await simulation?.stop();
    await t?.close();
  }, 60_000);

  it('signs in and shows the role and the overview', async () => {
    const page = await browser.newPage(WIDE);
    await signIn(page, t.addresses.httpUrl, t.adminToken);
    expect(await page.locator('#who .role').textContent()).toBe('admin');
    // The map has devices, the ingest health counts accepted values, KPI tiles are drawn.
    await page.waitForFunction(
      () => Number(document.querySelector<HTMLElement>('[data-testid=district-map]')?.dataset.devices) > 50,
      null,
      { timeout: 15_000 },
    );
    await page.locator('[data-testid=latest-readings] li[data-device]').first().waitFor({ timeout: 15_000 });
    await page.locator('[data-testid=kpi-tiles] .kpi-tile').first().waitFor({ timeout: 15_000 });
    await page.waitForFunction(
      () => Number(document.querySelector('[data-testid=accepted-rate]')?.textContent?.replace(/,/g, '')) > 0,
      null,
      { timeout: 15_000 },
    );
    // The ingest chart's time axis is on the city's 24-hour clock, as the header is.
    const axis = page.locator('.rate-chart[data-x-labels]');
    await axis.waitFor({ timeout: 15_000 });
    const labels = ((await axis.getAttribute('data-x-labels')) ?? '').split('|').filter((l) => l !== '');
    expect(labels.length).toBeGreaterThan(0);
    for (const label of labels) expect(label).toMatch(/^\d{2}:\d{2}(\n\d{1,2} [A-Z][a-z]{2})?$/);
    await page.close();
  });

  it('shows a reading published over MQTT within two seconds', async () => {
    const page = await browser.newPage();
    await signIn(page, t.addresses.httpUrl, viewer, `#/series/device/${probe.id}/pm25/minute`);
    await page.getByText('waiting for live values').waitFor();
    await probe.client.publishAsync(
      `devices/${probe.id}/telemetry`,
      JSON.stringify({ ts: Date.now(), values: { pm25: 42.42 } }),
      { qos: 1 },
    );
    // A deadline, not a measurement: the chart's summary must show the value within 2 s.
    await page.getByText('latest bucket mean 42.42 µg/m³').waitFor({ timeout: 2_000 });
    await screenshot(page, 'series-device');
    await page.close();
  });

  it('raises an alert on a threshold breach, which an operator acknowledges', async () => {
    const page = await browser.newPage();
    await signIn(page, t.addresses.httpUrl, operator, '#/alerts');
    const form = page.locator('[data-testid=rule-form]');
    await form.locator('input[name=name]').fill('PM2.5 high in Test Quarter');
    await form.locator('select[name=severity]').selectOption('critical');
    await form.locator('input[name=metric]').fill('pm25');
    await form.locator('input[name=value]').fill('100');
    await form.locator('input[name=forMinutes]').fill('0');
    await form.locator('input[name=district]').fill('Test Quarter');
    await form.locator('button[type=submit]').click();
    await page.getByRole('cell', { name: 'pm25 > 100 per district in Test Quarter' }).waitFor();

    await probe.client.publishAsync(
      `devices/${probe.id}/telemetry`,
      JSON.stringify({ ts: Date.now(), values: { pm25: 180 } }),
      { qos: 1 },
    );
    const alert = page.locator('[data-testid=active-alerts] li[data-state=open]', {
      hasText: 'Test Quarter',
    });
    await alert.waitFor({ timeout: 5_000 });
    await alert.locator('[data-action=acknowledge]').click();
    const acked = page.locator('[data-testid=active-alerts] li[data-state=acknowledged]', {
      hasText: 'Test Quarter',
    });
    await acked.getByText('acknowledged by duty officer').waitFor();
    const stored = await t.api<{ items: Array<{ state: string; acknowledgedBy: string }> }>(
      'GET',
      '/api/alerts?state=acknowledged',
    );
    expect(stored.body.items).toMatchObject([{ state: 'acknowledged', acknowledgedBy: 'duty officer' }]);
    await page.close();
  });

  it('renders the snapshot with every category, wide and on a tablet', async () => {
    const page = await browser.newPage(WIDE);
    await signIn(page, t.addresses.httpUrl, viewer, `#/snapshot/${currentMonth()}`);
    await page.locator('[data-testid=snapshot] svg.wheel').waitFor({ timeout: 10_000 });
    const categories = new Set(
      loadCatalogue()
        .hierarchy()
        .flatMap((d) => d.subDimensions.flatMap((s) => s.categories.map((c) => c.name))),
    );
    const categoryCount = loadCatalogue()
      .hierarchy()
      .reduce((n, d) => n + d.subDimensions.reduce((m, s) => m + s.categories.length, 0), 0);
    const shown = await page
      .locator('[data-category]')
      .evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-category')));
    expect(new Set(shown)).toEqual(categories);
    expect(shown).toHaveLength(categoryCount);
    // Every category also has its slice in the wheel.
    const slices = await page
      .locator('svg.wheel path[data-level=category]')
      .evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-name')));
    expect(new Set(slices)).toEqual(categories);
    expect(slices).toHaveLength(categoryCount);
    await screenshot(page, 'snapshot-wide');
    // The PNG export downloads an image.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('[data-action=export-png]'),
    ]);
    expect(download.suggestedFilename()).toBe(`snapshot-${currentMonth()}.png`);
    // The print stylesheet hides the controls (Print / PDF uses it).
    await page.emulateMedia({ media: 'print' });
    expect(await page.locator('[data-action=print]').isVisible()).toBe(false);
    await screenshot(page, 'snapshot-print');
    await page.emulateMedia({ media: 'screen' });
    await page.setViewportSize(TABLET);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(TABLET.width);
    await screenshot(page, 'snapshot-tablet');
    await page.close();
  });

  it('offers a viewer no admin action, and the admin view refuses it', async () => {
    const page = await browser.newPage();
    await signIn(page, t.addresses.httpUrl, viewer, '#/devices');
    expect(await page.locator('#who .role').textContent()).toBe('viewer');
    await page.locator('[data-testid=devices-table] tbody tr[data-device]').first().waitFor();
    expect(await page.locator('[data-action=toggle-device]').count()).toBe(0);
    // A viewer reads a device's counters: what it sent and what became of it.
    await page.locator('[data-action=device-counters]').first().click();
    const counters = page.locator('tr[data-counters]').first();
    await counters.waitFor();
    expect(await counters.textContent()).toMatch(/Since start: received \d+ messages, accepted \d+ values/);
    await screenshot(page, 'devices-viewer');
    expect(await page.locator('nav a[data-view=keys]').isVisible()).toBe(false);
    await page.goto(`${t.addresses.httpUrl}/#/keys`);
    await page.locator('[data-testid=forbidden]').waitFor();
    await page.goto(`${t.addresses.httpUrl}/#/alerts`);
    await page.locator('[data-testid=active-alerts]').waitFor();
    expect(await page.locator('[data-testid=rule-form]').count()).toBe(0);
    expect(await page.locator('[data-action=acknowledge]').count()).toBe(0);
    // And the API refuses it regardless of the page.
    expect((await t.api('POST', '/api/keys', { name: 'x', role: 'admin' }, viewer)).status).toBe(403);
    await page.close();
  });

  it('takes screenshots of the overview (after the tests above: with history and an alert), wide and on a tablet', async () => {
    const page = await browser.newPage(WIDE);
    await signIn(page, t.addresses.httpUrl, operator);
    await page.locator('[data-testid=overview-alerts] li[data-alert-id]').first().waitFor();
    await page.locator('[data-testid=kpi-tiles] .kpi-tile').first().waitFor();
    await page.locator('[data-testid=ingest-health] .uplot').waitFor();
    await screenshot(page, 'overview-wide');
    await page.setViewportSize(TABLET);
    await page.locator('[data-testid=district-map]').waitFor();
    // Nothing wider than the window: the layout reflows instead of scrolling sideways.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(TABLET.width);
    await screenshot(page, 'overview-tablet');
    await page.close();
  });

  it('had no console errors on any page', () => {
    expect(browser.errors).toEqual([]);
  });
});
