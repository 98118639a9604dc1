import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../helpers/platform-harness.ts';
import { type Browser, HAVE_CHROMIUM, launchBrowser, signIn } from './browser-harness.ts';

/**
 * The Alerts page shows an alert that came back within its rule's repeat window as one alert with its
 * repeat count and how long it has been active, in a real browser against the whole platform.
 */

let t: TestPlatform;
let browser: Browser;
let operator: string;
let probe: { id: string; client: MqttClient };

describe.skipIf(!HAVE_CHROMIUM)('alerts page: repeats', () => {
  beforeAll(async () => {
    t = await startTestPlatform({ livePushIntervalMs: 200 });
    operator = (await t.platform.apiKeys.create({ role: 'operator', name: 'duty officer' })).token;
    const device = await t.provision('air-quality-station', 'Test Quarter');
    probe = { id: device.id, client: await t.connect(device.id, device.password) };
    browser = await launchBrowser();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  }, 60_000);

  it('shows one alert, repeated twice, with its duration', async () => {
    const rule = await t.api('POST', '/api/alert-rules', {
      name: 'PM2.5 flapping',
      condition: {
        kind: 'series-threshold',
        scope: 'device',
        metric: 'pm25',
        op: '>',
        value: 25,
        forMinutes: 0,
        clearForMinutes: 0,
        clearMargin: 0,
      },
    });
    expect(rule.status).toBe(201);
    const now = Date.now();
    // Above, below, above, below, above: opens, clears, and twice opens again within the hour.
    for (const [i, pm25] of [30, 20, 30, 20, 30].entries())
      await probe.client.publishAsync(
        `devices/${probe.id}/telemetry`,
        JSON.stringify({ ts: now - (5 - i) * 60_000, values: { pm25 } }),
        { qos: 1 },
      );
    await t.platform.ingest.drain();
    const listed = await t.api<{ items: Array<{ repeatCount: number; state: string }>; total: number }>(
      'GET',
      '/api/alerts',
    );
    expect(listed.body).toMatchObject({ total: 1, items: [{ state: 'open', repeatCount: 2 }] });

    const page = await browser.newPage();
    await signIn(page, t.addresses.httpUrl, operator, '#/alerts');
    const alert = page.locator('[data-testid=active-alerts] li[data-state=open]', {
      hasText: 'PM2.5 flapping',
    });
    await alert.waitFor({ timeout: 5_000 });
    expect(await alert.locator('[data-field=repeats]').textContent()).toBe(' · repeated 2×');
    expect(await alert.locator('[data-field=duration]').textContent()).toMatch(/^ · active for /);
    await page.getByRole('cell', { name: 'repeats within 60 min' }).waitFor({ timeout: 5_000 });
    await page.close();
  });
});
