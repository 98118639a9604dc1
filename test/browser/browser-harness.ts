import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { silentLogger } from '../../core/logger.ts';
import { planCity } from '../../simulators/city-plan.ts';
import { Simulation } from '../../simulators/simulation.ts';
import type { TestPlatform } from '../helpers/platform-harness.ts';

/**
 * Debian's chromium driven by playwright-core (no downloaded browser). Without /usr/bin/chromium the browser
 * tests are skipped with a message, except in CI, where a missing browser is a failure.
 */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM) {
  const message = `browser tests: ${CHROMIUM} not found (apt-get install chromium)`;
  if (process.env.CI === 'true') throw new Error(`${message}; required in CI`);
  console.warn(`${message}: skipped`);
}

export const ARTIFACTS = join(process.cwd(), 'test-artifacts');
export const WIDE = { width: 1920, height: 1080 };
export const TABLET = { width: 768, height: 1024 };

export interface Browser {
  context: BrowserContext;
  /** Console errors and uncaught page errors of every page, with the page URL. */
  errors: string[];
  newPage(viewport?: { width: number; height: number }): Promise<Page>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<Browser> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'citymetrics-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: WIDE,
    acceptDownloads: true,
  });
  const errors: string[] = [];
  const watch = (page: Page) => {
    page.on('console', (msg) => {
      if (msg.type() === 'error') errors.push(`${page.url()}: ${msg.text()}`);
    });
    page.on('pageerror', (err) => errors.push(`${page.url()}: ${err.message}`));
  };
  context.on('page', watch);
  for (const page of context.pages()) watch(page);
  return {
    context,
    errors,
    async newPage(viewport = WIDE) {
      const page = await context.newPage();
      await page.setViewportSize(viewport);
      return page;
    },
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Opens the page and signs in with a key; resolves once the session shows the key's role. */
export async function signIn(page: Page, baseUrl: string, token: string, hash = '#/overview'): Promise<void> {
  await page.goto(`${baseUrl}/${hash}`);
  await page.fill('#api-key', token);
  await page.click('#sign-in button[type=submit]');
  await page.locator('#who .role').waitFor({ state: 'visible' });
  await page.locator('#view').waitFor({ state: 'visible' });
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  return file;
}

const DISTRICTS = ['Old Town', 'Riverside', 'Harbour', 'University', 'Northgate'];

/** A simulated city on the test platform (devices provisioned through the registry), running fast. */
export async function simulateCity(t: TestPlatform, devices: number): Promise<Simulation> {
  const plan = planCity({ devices, districts: DISTRICTS, seed: 7 });
  const credentials = [];
  for (const [i, item] of plan.entries()) {
    const { device, password } = await t.platform.registry.provision({
      ...item,
      id: `sim-${String(i + 1).padStart(3, '0')}`,
    });
    credentials.push({ id: device.id, password, kind: device.kind, attributes: device.attributes });
  }
  const simulation = new Simulation({
    url: t.addresses.mqttUrl,
    devices: credentials,
    qos: 0,
    speed: 30,
    seed: 7,
    timezone: t.platform.config.cityTimezone,
    logger: silentLogger(),
    connectRatePerSec: 500,
  });
  await simulation.start();
  return simulation;
}
