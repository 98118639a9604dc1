import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.ts';
import { CityError } from '../../core/errors.ts';
import { makeTempDir, type TempDir } from '../../test/helpers/temp-dir.ts';
import { FolderTarget } from './folder-target.ts';
import { type KpiFixture, kpiFixture } from './report-pack-fixture.ts';

const codeOf = async (fn: () => Promise<unknown>): Promise<string | undefined> => {
  try {
    await fn();
  } catch (err) {
    return err instanceof CityError ? err.code : `not a CityError: ${String(err)}`;
  }
  return undefined;
};

const problemsOf = (env: Record<string, string>): string[] => {
  try {
    loadConfig(env);
    return [];
  } catch (err) {
    return (err as CityError).details as string[];
  }
};

describe('report pack configuration', () => {
  it('refuses a webhook without its secret, a short secret, a non-HTTP URL and delays out of order, together', () => {
    expect(problemsOf({ REPORT_WEBHOOK_URL: 'https://example.org/hook' })).toEqual([
      expect.stringContaining('REPORT_WEBHOOK_SECRET is required with REPORT_WEBHOOK_URL'),
    ]);
    const problems = problemsOf({
      REPORT_WEBHOOK_URL: 'ftp://example.org/hook',
      REPORT_WEBHOOK_SECRET: 'short',
      REPORT_RETRY_MAX: '-1',
    });
    expect(problems.map((p) => p.split(':')[0])).toEqual([
      'REPORT_WEBHOOK_URL',
      'REPORT_WEBHOOK_SECRET',
      'REPORT_RETRY_MAX',
    ]);
    expect(problemsOf({ REPORT_RETRY_MIN_DELAY_MS: '5000', REPORT_RETRY_MAX_DELAY_MS: '1000' })).toEqual([
      expect.stringContaining('REPORT_RETRY_MIN_DELAY_MS (5000) must not exceed REPORT_RETRY_MAX_DELAY_MS'),
    ]);
    const ok = loadConfig({
      REPORT_DIR: '/srv/reports',
      REPORT_WEBHOOK_URL: 'https://example.org/hook',
      REPORT_WEBHOOK_SECRET: 'sixteen-chars-at-least',
    });
    expect(ok).toMatchObject({
      reportRetryMax: 8,
      reportRetryMinDelayMs: 1_000,
      reportWebhookTimeoutMs: 30_000,
    });
  });
});

describe('report pack refusals', () => {
  let dir: TempDir;
  let f: KpiFixture;

  beforeEach(async () => {
    dir = makeTempDir('citymetrics-report-refusals-');
    f = await kpiFixture(dir);
  });

  afterEach(async () => {
    await f.close();
    dir.remove();
  });

  it('answers each refusal with its code', async () => {
    const packs = f.packs([new FolderTarget(dir.file('out'))]);
    await packs.start();
    for (const bad of ['2026-13', '2026', 'march', '2026-1', '2026-02-01'])
      expect(await codeOf(() => packs.send(bad)), bad).toBe('REPORT_MONTH_INVALID');
    expect(await codeOf(() => packs.month('2026-00'))).toBe('REPORT_MONTH_INVALID');
    expect(await codeOf(() => packs.send('2026-02'))).toBe('REPORT_MONTH_NOT_CLOSED');
    expect(await codeOf(() => packs.month('2026-02'))).toBe('REPORT_UNKNOWN_MONTH');
    await f.closeFebruary();
    await packs.drain();
    expect((await packs.month('2026-02')).deliveries).toHaveLength(1);
    expect(await codeOf(() => packs.month('2025-01'))).toBe('REPORT_UNKNOWN_MONTH');
  });

  it('without a target: nothing is built when a month closes, and a send is refused', async () => {
    const packs = f.packs([]);
    await packs.start();
    await f.closeFebruary();
    await packs.drain();
    expect(await packs.list()).toEqual([]);
    expect(await packs.month('2026-02')).toMatchObject({ closedVersion: 1, pack: null, deliveries: [] });
    expect(await codeOf(() => packs.send('2026-02'))).toBe('REPORT_NO_TARGET');
  });
});
