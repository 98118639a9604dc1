import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { DateTime } from 'luxon';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SeriesPoint } from '../../core/ports/series-store.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/platform-harness.ts';
import { type Browser, HAVE_CHROMIUM, launchBrowser, screenshot, signIn, WIDE } from './browser-harness.ts';

/**
 * The series view in a real browser against the whole platform, in a city whose zone is 5 h 45 min ahead
 * of UTC (Kathmandu): a tick on a city hour reads ":00", one on a UTC hour would read ":45". Roll-ups are
 * written straight to the platform's store at known times; waits are playwright's, never sleeps.
 */

const ZONE = 'Asia/Kathmandu';
let t: TestPlatform;
let browser: Browser;
let viewer: string;
const ids: Record<string, string> = {};
/** 08:00–20:00 city time, two days ago: hour steps, twelve of them. */
let day: DateTime;
let customToken: string;

const names = (page: Page, selector: string) =>
  page.locator(selector).evaluateAll((nodes) => nodes.map((n) => n.textContent?.trim() ?? ''));
const xLabels = async (page: Page) =>
  ((await page.locator('[data-testid=series-chart]').getAttribute('data-x-labels')) ?? '').split('|');
const chartPoints = async (page: Page) =>
  Number(await page.locator('[data-testid=series-chart]').getAttribute('data-points'));

describe.skipIf(!HAVE_CHROMIUM)('series view', () => {
  beforeAll(async () => {
    t = await startTestPlatform({ livePushIntervalMs: 200, cityName: 'Demo City', cityTimezone: ZONE });
    viewer = (await t.platform.apiKeys.create({ role: 'viewer', name: 'analyst desk' })).token;
    const provision = async (key: string, kind: string, district: string, attributes?: object) => {
      ids[key] = (await t.provision(kind, district, attributes as never)).id;
    };
    await provision('harbour', 'air-quality-station', 'Harbour');
    await provision('oldTown', 'air-quality-station', 'Old Town');
    await provision('meter1', 'electricity-smart-meter', 'Harbour');
    await provision('meter2', 'electricity-smart-meter', 'Old Town');
    await provision('solar', 'renewable-generation-meter', 'Harbour');
    day = DateTime.now().setZone(ZONE).minus({ days: 2 }).startOf('day');
    customToken = `${day.toFormat("yyyy-MM-dd'T'08:00")}~${day.toFormat("yyyy-MM-dd'T'20:00")}`;
    const points: SeriesPoint[] = [];
    const add = (
      key: string,
      kind: string,
      district: string,
      metric: string,
      value: (h: number) => number,
    ) => {
      for (let h = 8; h < 20; h++)
        points.push({
          deviceId: ids[key]!,
          kind,
          district,
          metric,
          ts: day.set({ hour: h, minute: 20 }).toMillis(),
          value: value(h),
        });
    };
    add('harbour', 'air-quality-station', 'Harbour', 'pm25', (h) => 10 + h);
    add('oldTown', 'air-quality-station', 'Old Town', 'pm25', (h) => 40 - h);
    add('meter1', 'electricity-smart-meter', 'Harbour', 'energy', () => 1.5);
    add('meter2', 'electricity-smart-meter', 'Old Town', 'energy', () => 2.5);
    add('solar', 'renewable-generation-meter', 'Harbour', 'energy', (h) => 100 * h);
    // The last six hours, every ten minutes: what the "last 6 hours" preset draws by the minute.
    const now = Date.now();
    for (let m = 350; m >= 0; m -= 10)
      points.push({
        deviceId: ids.harbour!,
        kind: 'air-quality-station',
        district: 'Harbour',
        metric: 'pm25',
        ts: now - m * 60_000,
        value: 20,
      });
    await t.platform.store.write(points);
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  }, 60_000);

  it('draws a preset by the minute and a custom range by the hour, in 24-hour city time', async () => {
    const page = await browser.newPage(WIDE);
    await signIn(page, t.addresses.httpUrl, viewer, `#/series/device/${ids.harbour}/pm25/24h`);
    await page.locator('[data-testid=series-step]', { hasText: 'per hour' }).waitFor();
    await page.selectOption('[data-testid=series-range]', '6h');
    await page.locator('[data-testid=series-step]', { hasText: 'per minute' }).waitFor();
    expect(page.url()).toContain(`/series/device/${ids.harbour}/pm25/6h`);
    await expect.poll(() => chartPoints(page)).toBe(36);
    for (const label of await xLabels(page))
      expect(label).toMatch(/^([01]\d|2[0-3]):[0-5]\d(\n\d{1,2} \w{3})?$/);
    // The header clock is on the same 24-hour clock.
    expect(await page.locator('#clock').textContent()).toMatch(/^([01]\d|2[0-3]):[0-5]\d$/);

    await page.selectOption('[data-testid=series-range]', 'custom');
    await page.fill('[data-testid=series-custom] input[name=from]', day.toFormat('yyyy-MM-dd 08:00'));
    await page.fill('[data-testid=series-custom] input[name=to]', day.toFormat('yyyy-MM-dd 20:00'));
    await page.click('[data-testid=series-custom] button[type=submit]');
    await page.locator('[data-testid=series-step]', { hasText: 'per hour' }).waitFor();
    expect(decodeURIComponent(page.url())).toContain(customToken);
    await expect.poll(() => chartPoints(page)).toBe(12);
    const labels = await xLabels(page);
    // Ticks on city hours and half hours from 08:00 to 20:00 (UTC-aligned ones would read :15 and :45),
    // the afternoon ones past 12; the first carries the date.
    expect(labels.length).toBeGreaterThan(2);
    for (const label of labels) expect(label).toMatch(/^(0[89]|1\d|20):[03]0(\n\d{1,2} \w{3})?$/);
    expect(labels.some((l) => Number(l.slice(0, 2)) > 12)).toBe(true);
    expect(labels[0]).toContain(`\n${day.toFormat('d LLL')}`);
    // The inputs keep the range in city time after the reload the URL causes.
    expect(await page.inputValue('[data-testid=series-custom] input[name=from]')).toBe(
      day.toFormat('yyyy-MM-dd 08:00'),
    );
    await page.close();
  });

  it('compares two devices on one chart and exports what it shows as CSV', async () => {
    const page = await browser.newPage(WIDE);
    await signIn(page, t.addresses.httpUrl, viewer, `#/series/device/${ids.harbour}/pm25/${customToken}`);
    await page.locator('[data-testid=series-summary]', { hasText: 'latest bucket mean' }).waitFor();
    await page.selectOption('[data-testid=series-keys]', [ids.harbour!, ids.oldTown!]);
    await page.locator('[data-testid=series-summary]', { hasText: '2 series' }).waitFor();
    const devices = await t.api<{ items: Array<{ id: string; name: string }> }>('GET', '/api/devices');
    const nameOf = (id: string) => devices.body.items.find((d) => d.id === id)!.name;
    const legend = await names(page, '.u-legend .u-series .u-label');
    // Lines in the order the picker lists the devices (by name).
    const lines = [ids.harbour!, ids.oldTown!]
      .map((id) => `${nameOf(id)} (${id})`)
      .sort((a, b) => a.localeCompare(b));
    expect(legend).toEqual([`time (${ZONE})`, ...lines]);
    const harbourFirst = lines[0]!.includes(ids.harbour!);
    const shown = await chartPoints(page);
    expect(shown).toBe(12);
    await screenshot(page, 'series');
    mkdirSync('docs/screenshots', { recursive: true });
    copyFileSync('test-artifacts/series.png', 'docs/screenshots/series.png');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('[data-testid=series-export]'),
    ]);
    const csv = readFileSync((await download.path())!, 'utf8')
      .trimEnd()
      .split('\r\n');
    expect(csv[0]).toBe(
      [`time (${ZONE})`, ...lines.map((l) => `${l} · pm25 mean (µg/m³) · per hour`)].join(','),
    );
    expect(csv.length - 1).toBe(shown);
    // Each row: the bucket start in ISO with the city's offset, then both means (10 + h and 40 - h).
    const means = (a: number, b: number) => (harbourFirst ? `${a},${b}` : `${b},${a}`);
    expect(csv[1]).toBe(`${day.toFormat("yyyy-MM-dd'T'08:00:00")}+05:45,${means(18, 32)}`);
    expect(csv[12]).toBe(`${day.toFormat("yyyy-MM-dd'T'19:00:00")}+05:45,${means(29, 21)}`);
    await page.close();
  });

  it('draws the city per device kind: customer meters and generation are separate lines', async () => {
    const page = await browser.newPage(WIDE);
    await signIn(page, t.addresses.httpUrl, viewer, `#/series/city/-/energy/${customToken}`);
    await page.locator('[data-testid=series-summary]', { hasText: '2 series' }).waitFor();
    expect(await names(page, '.u-legend .u-series .u-label')).toEqual([
      `time (${ZONE})`,
      'Demo City · Customer electricity smart meter',
      'Demo City · Renewable generation meter',
    ]);
    expect(await page.locator('#view [role=alert]').allTextContents()).toEqual(['']);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('[data-testid=series-export]'),
    ]);
    const csv = readFileSync((await download.path())!, 'utf8')
      .trimEnd()
      .split('\r\n');
    // Customer meters average 1.5 and 2.5 kWh to 2; generation stands apart (100 kWh × hour).
    expect(csv[1]).toBe(`${day.toFormat("yyyy-MM-dd'T'08:00:00")}+05:45,2,800`);
    expect(csv.length - 1).toBe(await chartPoints(page));

    // Districts compared on a metric kinds mean differently: one kind at a time, chosen on the page.
    await page.goto(`${t.addresses.httpUrl}/#/series/district/Harbour,Old%20Town/energy/${customToken}`);
    await page.locator('[data-testid=series-summary]', { hasText: '2 series' }).waitFor();
    expect(await page.locator('[data-testid=series-kind]').inputValue()).toBe('electricity-smart-meter');
    expect(await names(page, '.u-legend .u-series .u-label')).toEqual([
      `time (${ZONE})`,
      'Harbour · Customer electricity smart meter',
      'Old Town · Customer electricity smart meter',
    ]);
    await page.selectOption('[data-testid=series-kind]', 'renewable-generation-meter');
    await page.locator('[data-testid=series-summary]', { hasText: 'latest bucket mean 1,900 kWh' }).waitFor();
    expect(await page.locator('#view [role=alert]').textContent()).toBe(
      'Old Town has no Renewable generation meter.',
    );
    expect(browser.errors).toEqual([]);
    await page.close();
  });
});
