import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES } from '../../dashboards/http/roles.ts';
import { KindCatalogue } from '../../devices/kind-catalogue.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/platform-harness.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

let t: TestPlatform;
let work: string;

/**
 * `citymetrics <args>` as its own process (tsx on cli.ts), its output piped as a script would have it. The
 * environment is only what is given (plus PATH and HOME), so no setting of the machine leaks in.
 */
function cli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'cli.ts'), ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      LOG_LEVEL: 'warn',
      DATA_DIR: join(work, 'no-platform-here'),
      ...env,
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

/** The platform's API and an admin key, as the flags of a command. */
const api = () => ['--api', t.addresses.httpUrl, '--token', t.adminToken];

/** A coded error as the CLI tells it: code and message, a fix, and never a stack trace. */
function expectCodedError(run: CliRun, code: string): void {
  expect(run.code).not.toBe(0);
  expect(run.stderr).toMatch(new RegExp(`^${code}: \\S`, 'm'));
  expect(run.stderr).toMatch(/^ {2}fix: \S/m);
  expect(run.stderr).not.toMatch(/^\s+at /m);
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'citymetrics-cli-'));
  t = await startTestPlatform();
});

afterAll(async () => {
  await t?.close();
  rmSync(work, { recursive: true, force: true });
});

// Each test runs the CLI as processes of its own (a second or more each on a busy machine).
describe('citymetrics command line', { timeout: 120_000 }, () => {
  it('--version prints the package version', async () => {
    const run = await cli(['--version']);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe(VERSION);
  });

  it('--api defaults to localhost on HTTP_PORT, the setting the server listens on', async () => {
    const port = new URL(t.addresses.httpUrl).port;
    const run = await cli(['keys', 'list', '--json'], { HTTP_PORT: port, CITYMETRICS_TOKEN: t.adminToken });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const keys = JSON.parse(run.stdout) as Array<{ name: string; role: string }>;
    expect(keys).toContainEqual(expect.objectContaining({ name: 'test', role: 'admin' }));
  });

  it('an API refusal is printed as code, message and fix, without a stack trace', async () => {
    const run = await cli(['devices', 'rotate-password', 'no-such-device', ...api()]);
    expectCodedError(run, 'DEVICES_NOT_FOUND');
    expect(run.stderr).toContain('no-such-device');
  });

  it('an unreachable API and a missing key are coded errors with their fixes', async () => {
    const unreachable = await cli(['keys', 'list', '--token', 'x'], { HTTP_PORT: '1' });
    expectCodedError(unreachable, 'CLI_API_UNREACHABLE');
    expect(unreachable.stderr).toContain('http://localhost:1');
    const noKey = await cli(['keys', 'list', '--api', t.addresses.httpUrl]);
    expectCodedError(noKey, 'API_UNAUTHENTICATED');
    expect(noKey.stderr).toContain('--token');
  });

  it('an invalid enum value is answered with the valid ones', async () => {
    const run = await cli(['keys', 'create', '--name', 'x', '--role', 'root', ...api()]);
    expectCodedError(run, 'CLI_ARGUMENT_INVALID');
    for (const role of ROLES) expect(run.stderr).toContain(role);
    const format = await cli([
      'kpi',
      'export',
      '2026',
      '--format',
      'pdf',
      '--out',
      join(work, 'x'),
      ...api(),
    ]);
    expectCodedError(format, 'CLI_ARGUMENT_INVALID');
    expect(format.stderr).toContain('csv, xlsx, json');
  });

  it('keys create, list and revoke: a revoked key is refused by the API', async () => {
    const created = await cli([
      'keys',
      'create',
      '--name',
      'grafana',
      '--role',
      'viewer',
      '--json',
      ...api(),
    ]);
    expect(created.code).toBe(0);
    const key = JSON.parse(created.stdout) as { id: string; key: string; role: string };
    expect(key.role).toBe('viewer');
    expect((await t.api('GET', '/api/devices', undefined, key.key)).status).toBe(200);

    const listed = await cli(['keys', 'list', ...api()]);
    expect(listed.code).toBe(0);
    const line = listed.stdout.split('\n').find((l) => l.startsWith(key.id));
    expect(line).toMatch(/viewer\s+grafana\s+\S+ active$/);

    const revoked = await cli(['keys', 'revoke', key.id, ...api()]);
    expect(revoked.code).toBe(0);
    expect((await t.api('GET', '/api/devices', undefined, key.key)).status).toBe(401);
    const after = await cli(['keys', 'list', '--json', ...api()]);
    const entry = (JSON.parse(after.stdout) as Array<{ id: string; revokedAt: string | null }>).find(
      (k) => k.id === key.id,
    );
    expect(entry?.revokedAt).not.toBeNull();
  });

  it('devices delete needs --yes, removes a device without readings and refuses one with readings', async () => {
    const spare = await t.provision('air-quality-station', 'Harbour');
    const unconfirmed = await cli(['devices', 'delete', spare.id, ...api()]);
    expectCodedError(unconfirmed, 'CLI_CONFIRMATION_REQUIRED');
    expect((await t.api('GET', `/api/devices/${spare.id}`)).status).toBe(200);

    const deleted = await cli(['devices', 'delete', spare.id, '--yes', ...api()]);
    expect(deleted.stderr).toBe('');
    expect(deleted.code).toBe(0);
    expect((await t.api('GET', `/api/devices/${spare.id}`)).status).toBe(404);
    await expect(t.connect(spare.id, spare.password)).rejects.toThrow();

    const reporting = await t.provision('air-quality-station', 'Harbour');
    const res = await fetch(`${t.addresses.httpUrl}/api/devices/${reporting.id}/telemetry`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from(`${reporting.id}:${reporting.password}`).toString('base64')}`,
      },
      body: JSON.stringify({ ts: Date.now(), values: { pm25: 9 } }),
    });
    expect(res.status).toBe(201);
    await t.platform.ingest.drain();
    const refused = await cli(['devices', 'delete', reporting.id, '--yes', ...api()]);
    expectCodedError(refused, 'DEVICES_HAS_READINGS');
    expect(refused.stderr).toContain('decommission');
    expect((await t.api('GET', `/api/devices/${reporting.id}`)).status).toBe(200);
  });

  it("simulate publishes at the kinds' intervals and reuses its fleet on a second run", async () => {
    const fleet = join(work, 'fleet.json');
    const countDevices = async () =>
      (await t.api<{ total: number }>('GET', '/api/devices?limit=1')).body.total;
    const before = await countDevices();
    const args = [
      'simulate',
      '--url',
      t.addresses.mqttUrl,
      ...api(),
      '--fleet',
      fleet,
      '--devices',
      '6',
      '--speed',
      '60',
      '--duration',
      '1',
      '--json',
    ];
    const first = await cli(args);
    expect(first.code).toBe(0);
    expect(first.stderr).toContain('6 provisioned');
    expect(await countDevices()).toBe(before + 6);
    const stored = JSON.parse(readFileSync(fleet, 'utf8')) as {
      devices: Array<{ id: string; kind: string }>;
    };
    // The six devices of the seed-1 city, with their kinds' reporting intervals (devices/kinds.ts):
    expect(stored.devices.map((d) => d.kind).sort()).toEqual([
      'building-energy-meter', // 900 s
      'electricity-smart-meter', // 900 s
      'heat-meter', // 3600 s
      'traffic-counter', // 60 s
      'transit-stop-display', // 60 s
      'water-smart-meter', // 900 s
    ]);
    // By hand: 60 × (3/900 + 2/60 + 1/3600) = 0.2 + 2 + 1/60 readings/s.
    const byHand = 60 * (3 / 900 + 2 / 60 + 1 / 3600);
    expect(byHand).toBeCloseTo(2.2166667, 6);
    const kinds = new KindCatalogue();
    const fromKinds = 60 * stored.devices.reduce((s, d) => s + 1 / kinds.get(d.kind)!.intervalSec, 0);
    expect(fromKinds).toBeCloseTo(byHand, 9);
    const report = JSON.parse(first.stdout) as { targetRatePerSec: number; devices: number };
    expect(report.devices).toBe(6);
    expect(report.targetRatePerSec).toBeCloseTo(byHand, 6);
    expect(first.stderr).toContain('Target 2.217 readings/s');

    const second = await cli(args);
    expect(second.code).toBe(0);
    expect(second.stderr).toContain('6 reused');
    expect(second.stderr).toContain('0 provisioned');
    expect(await countDevices()).toBe(before + 6);
    const again = JSON.parse(readFileSync(fleet, 'utf8')) as { devices: Array<{ id: string }> };
    expect(again.devices.map((d) => d.id)).toEqual(stored.devices.map((d) => d.id));
  });

  it('draws progress on stderr when forced with --progress, and none when piped', async () => {
    const forced = await cli([
      'backup',
      '--out',
      join(work, 'a.tar.gz'),
      '--data-dir',
      t.dataDir,
      '--progress',
    ]);
    expect(forced.code).toBe(0);
    expect(forced.stderr).toMatch(/^backup \|=+\| 100%/m);
    expect(forced.stdout).toContain('backup written');
    expect(forced.stdout).not.toContain('|');

    const piped = await cli(['backup', '--out', join(work, 'b.tar.gz'), '--data-dir', t.dataDir]);
    expect(piped.code).toBe(0);
    expect(piped.stderr).toBe('');
    expect(piped.stdout).toContain('backup written');
  });
});
