import type { Page } from 'playwright-core';
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
 * The KPI pages in a real browser against the whole platform with a simulated city: a tile opens its KPI
 * page with the lineage explained, a snapshot row links to it, an admin's tile order is what a viewer sees,
 * and the snapshot and overview fit their cards at the common screen widths.
 */

let t: TestPlatform;
let browser: Browser;
let simulation: Simulation;
let viewer: string;
let history: { restated: string; months: string[] };

const AIR = 'EN: EN: AQ: 1C';
const NOISE = 'EN: EN: EQ: 2A';
const currentMonth = () => new Date().toISOString().slice(0, 7); // the test platform's city zone is UTC
/** The UTC month `back` months before this one: [label, start ms, end ms). */
const monthBack = (back: number): [string, number, number] => {
  const now = new Date();
  const start = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - back, 1);
  const end = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - back + 1, 1);
  return [new Date(start).toISOString().slice(0, 7), start, end];
};
const HISTORY_STATION = 'aq-history-1';

/**
 * Three closed months of one PM2.5 station: two complete (one reading a minute), the last one hourly
 * (incomplete) and then overridden by an analyst, which restates it as version 2.
 */
async function closedHistory(t: TestPlatform): Promise<{ restated: string; months: string[] }> {
  const months = [3, 2, 1].map(monthBack);
  const points = months.flatMap(([, start, end], i) => {
    const step = i === 2 ? 3_600_000 : 60_000;
    return Array.from({ length: Math.floor((end - start) / step) }, (_, j) => ({
      deviceId: HISTORY_STATION,
      kind: 'air-quality-station',
      district: 'Old Town',
      metric: 'pm25',
      ts: start + j * step,
      value: 8 + i * 3 + (j % 7) / 2,
    }));
  });
  // stored before the station is registered: the month-close scheduler never sees it without its readings
  await t.platform.store.write(points);
  await t.platform.registry.provision({
    id: HISTORY_STATION,
    kind: 'air-quality-station',
    district: 'Old Town',
    name: 'Old Town PM2.5 (since summer)',
    attributes: { pollutants: 'pm25' },
    location: { lat: 52.517, lon: 13.4 },
    installedAt: months[0]![1],
  });
  for (const [label] of months) {
    const res = await t.api('POST', `/api/rollups/${label}/close`);
    expect([201, 409]).toContain(res.status); // 409: the scheduler closed it first
  }
  // the newest closed month: an override also holds for the months after it (carried forward)
  const restated = months[2]![0];
  const override = await t.api('POST', '/api/kpis/EN-EN-AQ-1C/values', {
    period: restated,
    dataPoint: 'PM2.5',
    value: 14.2,
    unit: 'µg/m³',
    dataQuality: 'accurate-measurement',
    source: 'reference laboratory',
    override: true,
  });
  expect(override.status).toBe(201);
  return { restated, months: months.map(([label]) => label) };
}
const WIDTHS = [{ width: 1280, height: 900 }, { width: 1600, height: 900 }, WIDE, TABLET];

/**
 * A new window size, then two frames: the page's resize handlers (the ingest chart, the maps) have run, so
 * what is measured is the layout a person sees, not the one frame between the resize and its handler.
 */
async function resize(page: Page, size: { width: number; height: number }): Promise<void> {
  await page.setViewportSize(size);
  await page.evaluate(
    () => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(() => done(null)))),
  );
}

interface LineageAnswer {
  lineage: { series: Array<{ scope: string; readings: number }> } | null;
}

describe.skipIf(!HAVE_CHROMIUM)('KPI pages', () => {
  beforeAll(async () => {
    t = await startTestPlatform({ livePushIntervalMs: 200, cityName: 'Demo City' });
    viewer = (await t.platform.apiKeys.create({ role: 'viewer', name: 'wall display' })).token;
    // the per-capita KPIs (noise exposure, water and electricity consumption) need the population
    const profile = { population: 250_000, households: 112_000, areaKm2: 90, effectiveFrom: '2020-01-01' };
    expect((await t.api('PUT', '/api/city-profile', profile)).status).toBe(200);
    history = await closedHistory(t);
    simulation = await simulateCity(t, 60);
    browser = await launchBrowser();
    // Air pollution readings stored for this month: the explain section then has counts to show.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const res = await t.api<LineageAnswer>('GET', '/api/kpis/EN-EN-AQ-1C/lineage');
      if ((res.body.lineage?.series ?? []).some((s) => s.readings > 0)) break;
      if (Date.now() > deadline) throw new Error('no air-quality reading stored within 60 s');
      await new Promise((r) => setTimeout(r, 250));
    }
  }, 150_000);

  afterAll(async () => {
    await browser?.close();
    await simulation?.stop();
    await t?.close();
  }, 60_000);

  it('leads the overview with what sensors feed; a tile opens its KPI page, which explains the number', async () => {
    const page = await browser.newPage(WIDE);
    await signIn(page, t.addresses.httpUrl, t.adminToken);
    const tiles = page.locator('[data-testid=kpi-tiles] .kpi-tile');
    await tiles.first().waitFor({ timeout: 15_000 });
    const codes = await tiles.evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-code')));
    expect(codes.slice(0, 3)).toEqual([AIR, NOISE, 'EN: EN: WS: 1C']);
    // every tile is a real link to its KPI page
    const hrefs = await tiles.evaluateAll((nodes) => nodes.map((n) => [n.tagName, n.getAttribute('href')]));
    expect(hrefs.every(([tag, href]) => tag === 'A' && /^#\/kpi\/[A-Z]{2}-/.test(href ?? ''))).toBe(true);
    // a month to date is never final
    const statuses = await page
      .locator('[data-testid=kpi-tiles] .kpi-tile .chip:not([hidden])')
      .evaluateAll((nodes) => nodes.map((n) => n.textContent));
    expect(statuses).not.toContain('final');
    await screenshot(page, 'kpi-overview-wide');

    await tiles.first().click();
    expect(await page.evaluate(() => location.hash)).toBe('#/kpi/EN-EN-AQ-1C');
    await page.locator('[data-testid=kpi-head] h2', { hasText: 'Air Pollution' }).waitFor();
    const devices = page.locator('[data-testid=lineage-devices] tbody tr[data-device]');
    await devices.first().waitFor({ timeout: 10_000 });
    const readings = await page
      .locator('[data-testid=lineage-devices] td[data-readings]')
      .evaluateAll((cells) => cells.map((c) => Number(c.getAttribute('data-readings'))));
    expect(readings.length).toBeGreaterThan(0);
    expect(readings.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    // the device ids shown are those of the lineage, which are air-quality stations
    const ids = await devices.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-device')));
    for (const id of ids) expect(t.platform.registry.get(id!)?.kind).toBe('air-quality-station');
    const formula = await page.locator('[data-testid=explain-formula]').textContent();
    expect(formula).toContain(loadCatalogue().get(AIR)!.formula);
    expect(formula).toMatch(/formula version \S+/);
    // provisional, and why (the simulated devices were installed moments ago: nothing was owed yet)
    expect(await page.locator('[data-testid=explain-status]').textContent()).toMatch(
      /provisional.*Why provisional: \S/,
    );
    // value per period: month, quarter, year, rolling 12 months
    const periods = await page
      .locator('[data-testid=kpi-periods] tr[data-period]')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-period')));
    const month = currentMonth();
    expect(periods).toEqual(
      expect.arrayContaining([
        `${month}-mtd`,
        `${month.slice(0, 4)}-Q${Math.ceil(Number(month.slice(5)) / 3)}`,
        `${month.slice(0, 4)}-ytd`,
        `${month}-r12`,
      ]),
    );
    // the devices on the map: those of the lineage only
    await page.waitForFunction(
      (n) => Number(document.querySelector<HTMLElement>('[data-testid=kpi-map]')?.dataset.devices) === n,
      new Set(ids).size,
      { timeout: 10_000 },
    );
    // the history: the closed months, the restated one marked with its version
    const points = await page
      .locator('[data-testid=kpi-history] .history-point')
      .evaluateAll((gs) => gs.map((g) => [g.getAttribute('data-period'), g.getAttribute('data-restated')]));
    expect(points.slice(0, 3)).toEqual(
      history.months.map((m) => [m, m === history.restated ? 'true' : null]),
    );
    await page
      .locator(`[data-testid=restatements] li[data-period="${history.restated}"]`, {
        hasText: 'manual value changed',
      })
      .waitFor();
    expect(await page.locator('[data-testid=kpi-history] .target-line').count()).toBe(1);
    await page.mouse.move(0, 0);
    await screenshot(page, 'kpi-page');
    await page.locator('[data-testid=lineage-devices]').scrollIntoViewIfNeeded();
    await screenshot(page, 'kpi-page-explain');
    await page.evaluate(() => window.scrollTo(0, 0));
    // explaining another period: the quarter
    await page
      .locator(
        '[data-testid=kpi-periods] tr[data-period$="-Q1"], [data-testid=kpi-periods] tr[data-period*="-Q"]',
      )
      .first()
      .locator('a')
      .click();
    await page.locator('[data-testid=kpi-explain] h2', { hasText: /Q[1-4] \d{4}/ }).waitFor();
    await page.close();
  }, 60_000);

  it('links each snapshot row to its KPI page, and says how many KPIs each score rests on', async () => {
    const page = await browser.newPage(WIDE);
    await signIn(page, t.addresses.httpUrl, viewer, `#/snapshot/${currentMonth()}`);
    await page.locator('[data-testid=snapshot] svg.wheel').waitFor({ timeout: 10_000 });
    const bases = await page
      .locator('[data-dimension] > .dimension-title .score-basis')
      .evaluateAll((nodes) => nodes.map((n) => n.textContent));
    expect(bases.length).toBeGreaterThan(0);
    for (const b of bases) expect(b).toMatch(/^\d+ of \d+ KPIs? scored$/);
    // a score is shown exactly where some KPI of the group is scored (a category name such as "Transport"
    // is in two sub-dimensions: each has its own score)
    const chips = await page
      .locator('.score-wrap')
      .evaluateAll((wraps) =>
        wraps.map((w) => [
          w.querySelector('.chip')?.textContent,
          Number(w.querySelector('.score-basis')?.getAttribute('data-scored')),
        ]),
      );
    expect(chips.length).toBeGreaterThan(20);
    for (const [text, scored] of chips) expect([text, text === 'not scored']).toEqual([text, scored === 0]);
    const rows = await page
      .locator('table.kpi-table tr[data-code]')
      .evaluateAll((trs) =>
        trs.map((tr) => [tr.getAttribute('data-code'), tr.querySelector('a')?.getAttribute('href')]),
      );
    expect(rows.length).toBeGreaterThanOrEqual(91);
    for (const [code, href] of rows)
      expect(href).toBe(
        `#/kpi/${code!
          .split(':')
          .map((p) => p.trim())
          .join('-')}`,
      );
    await page.locator(`tr[data-code="${NOISE}"] td.name a`).first().click();
    await page.locator('[data-testid=kpi-head] h2', { hasText: 'Noise Exposure' }).waitFor();
    expect(await page.evaluate(() => location.hash)).toBe('#/kpi/EN-EN-EQ-2A');
    await page.close();
  });

  it('shows a viewer, after a reload, the tile order an admin saved for viewers', async () => {
    const admin = await browser.newPage(WIDE);
    await signIn(admin, t.addresses.httpUrl, t.adminToken);
    await admin.locator('[data-testid=kpi-tiles] .kpi-tile').first().waitFor({ timeout: 15_000 });
    await admin.click('[data-action=choose-tiles]');
    const chooser = admin.locator('[data-testid=tile-chooser]');
    await chooser.locator('select[name=role]').selectOption('viewer');
    const items = chooser.locator('[data-testid=tile-choice] li');
    await chooser.locator(`[data-testid=tile-choice] li[data-code="${NOISE}"]`).waitFor();
    // Travel Time Index to the top, Air Pollution out, Household Internet Access (manual) added at the end
    const tti = chooser.locator('[data-testid=tile-choice] li[data-code="EC: I: T: 5A"]');
    while ((await items.first().getAttribute('data-code')) !== 'EC: I: T: 5A')
      await tti.locator('[data-action=up]').click();
    await chooser.locator(`[data-testid=tile-choice] li[data-code="${AIR}"] [data-action=remove]`).click();
    await chooser.locator('select[name=add]').selectOption('EC: ICT: ICT: 1C');
    await chooser.locator('[data-action=add-tile]').click();
    const chosen = await items.evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-code')));
    await chooser.locator('[data-action=save-tiles]').click();
    await chooser.getByText(/saved for viewer/).waitFor();
    expect(chosen[0]).toBe('EC: I: T: 5A');
    expect(chosen).not.toContain(AIR);
    expect(chosen.at(-1)).toBe('EC: ICT: ICT: 1C');
    // the admin's own tiles did not change
    expect(await admin.locator('[data-testid=kpi-tiles] .kpi-tile').first().getAttribute('data-code')).toBe(
      AIR,
    );
    await screenshot(admin, 'kpi-tile-chooser');
    await admin.close();

    const page = await browser.newPage(WIDE);
    await signIn(page, t.addresses.httpUrl, viewer);
    expect(await page.locator('[data-action=choose-tiles]').count()).toBe(0);
    const order = async () => {
      await page.locator('[data-testid=kpi-tiles] .kpi-tile').first().waitFor({ timeout: 15_000 });
      return page
        .locator('[data-testid=kpi-tiles] .kpi-tile')
        .evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-code')));
    };
    expect(await order()).toEqual(chosen);
    await page.reload();
    await page.locator('#who .role').waitFor({ state: 'visible' });
    expect(await order()).toEqual(chosen);
    await page.close();
    // back to the default for the tests after this one
    expect((await t.api('DELETE', '/api/tile-layouts/viewer')).status).toBe(204);
  });

  it('keeps every snapshot table inside its card and the overview inside the window, at 1280, 1600, 1920 px and on a tablet', async () => {
    const page = await browser.newPage(WIDE);
    await signIn(page, t.addresses.httpUrl, viewer, `#/snapshot/${currentMonth()}`);
    await page.locator('[data-testid=snapshot] svg.wheel').waitFor({ timeout: 10_000 });
    for (const size of WIDTHS) {
      await resize(page, size);
      const overflowing = await page.locator('article.category').evaluateAll((cards) =>
        cards.flatMap((card) => {
          const table = card.querySelector('table')!;
          const right = card.getBoundingClientRect().right;
          return card.scrollWidth > card.clientWidth ||
            table.scrollWidth > table.clientWidth ||
            table.getBoundingClientRect().right > right + 0.5
            ? [card.getAttribute('data-category')]
            : [];
        }),
      );
      expect([size.width, overflowing]).toEqual([size.width, []]);
      // and fitting is not bought by squeezing: a KPI's name keeps a readable column (8 rem at least)
      const narrowest = await page
        .locator('table.kpi-table td.name')
        .evaluateAll((cells) => Math.min(...cells.map((c) => c.getBoundingClientRect().width)));
      expect([size.width, narrowest >= 128]).toEqual([size.width, true]);
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(size.width);
      await page.locator('article.category').first().scrollIntoViewIfNeeded();
      await screenshot(page, `kpi-snapshot-${size.width}`);
    }
    await page.goto(`${t.addresses.httpUrl}/#/overview`);
    await page.locator('[data-testid=kpi-tiles] .kpi-tile').first().waitFor({ timeout: 15_000 });
    for (const size of WIDTHS) {
      await resize(page, size);
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(size.width);
      const cut = await page
        .locator('.card')
        .evaluateAll((cards) => cards.filter((c) => c.scrollWidth > c.clientWidth).length);
      expect([size.width, cut]).toEqual([size.width, 0]);
    }
    // the wall as the README shows it, a minute into the simulated city (readings are owed by now)
    await page.setViewportSize(WIDE);
    await page
      .waitForFunction(() => document.querySelectorAll('.kpi-tile:not(.nr)').length >= 4, null, {
        timeout: 20_000,
      })
      .catch(() => undefined);
    await page.mouse.move(0, 0);
    await screenshot(page, 'kpi-overview-later');
    await page.goto(`${t.addresses.httpUrl}/#/kpi/EN-EN-AQ-1C`);
    await page.locator('[data-testid=lineage-devices] tbody tr').first().waitFor({ timeout: 10_000 });
    for (const size of WIDTHS) {
      await resize(page, size);
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(size.width);
    }
    await screenshot(page, 'kpi-page-tablet');
    await page.close();
  });

  it('had no console errors on any page', () => {
    expect(browser.errors).toEqual([]);
  });
});
