import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../helpers/platform-harness.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

let t: TestPlatform;
let work: string;

/** `citymetrics <args>` as its own process (tsx on cli.ts), with only the given environment. */
function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'cli.ts'), ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      LOG_LEVEL: 'warn',
      DATA_DIR: join(work, 'no-platform-here'),
    },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString('utf8');
  });
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString('utf8');
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const api = () => ['--api', t.addresses.httpUrl, '--token', t.adminToken];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'citymetrics-cli-life-'));
  t = await startTestPlatform();
});

afterAll(async () => {
  await t?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('citymetrics devices: the installed interval', { timeout: 120_000 }, () => {
  it('provision --installed-at, update --installed-at/--removed-at, decommission --at, life', async () => {
    const provisioned = await cli([
      'devices',
      'provision',
      ...api(),
      '--kind',
      'noise-monitor',
      '--district',
      'Old Town',
      '--installed-at',
      '2026-01-01T00:00:00Z',
    ]);
    expect(provisioned.code, provisioned.stderr).toBe(0);
    const device = JSON.parse(provisioned.stdout) as { id: string; installedAt: string };
    expect(device.installedAt).toBe('2026-01-01T00:00:00.000Z');

    const updated = await cli([
      'devices',
      'update',
      device.id,
      ...api(),
      '--installed-at',
      '2025-12-01T00:00:00+01:00',
      '--removed-at',
      '2030-01-01T00:00:00Z',
    ]);
    expect(updated.code, updated.stderr).toBe(0);
    expect(JSON.parse(updated.stdout)).toMatchObject({
      installedAt: '2025-11-30T23:00:00.000Z',
      removedAt: '2030-01-01T00:00:00.000Z',
    });

    const reopened = await cli(['devices', 'update', device.id, ...api(), '--removed-at', 'none']);
    expect(JSON.parse(reopened.stdout)).toMatchObject({ removedAt: null });

    const at = new Date(Date.now() - 60_000).toISOString();
    const decommissioned = await cli(['devices', 'decommission', device.id, ...api(), '--at', at]);
    expect(decommissioned.code, decommissioned.stderr).toBe(0);
    expect(JSON.parse(decommissioned.stdout)).toMatchObject({ removedAt: at });

    const again = await cli(['devices', 'decommission', device.id, ...api()]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/^API_CONFLICT: /m);

    const life = await cli(['devices', 'life', device.id, ...api()]);
    expect(life.code, life.stderr).toBe(0);
    const history = JSON.parse(life.stdout) as { changes: Array<{ action: string; by: string }> };
    expect(history.changes.map((c) => c.action)).toEqual(['update', 'update', 'decommission']);
    expect(history.changes.every((c) => c.by.startsWith('test ('))).toBe(true);
  });
});
