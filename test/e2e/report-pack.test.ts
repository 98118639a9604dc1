import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.ts';
import { packManifestSchema } from '../../metrics/report-pack/pack-manifest.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/platform-harness.ts';
import { makeTempDir, type TempDir } from '../helpers/temp-dir.ts';
import { signatureValid, type WebhookReceiver, webhookReceiver } from '../helpers/webhook-receiver.ts';

const ZONE = 'Europe/Lisbon';
const APRIL_10 = DateTime.fromISO('2026-04-10T12:00:00', { zone: ZONE }).toMillis();
const SECRET = 'e2e-report-webhook-secret';
const run = promisify(execFile);

interface Delivery {
  id: number;
  month: string;
  version: number;
  target: string;
  state: string;
  attempts: number;
  trigger: string;
}

/**
 * The whole platform on temp SQLite with a folder and a webhook target: closing a month through the API
 * writes its pack and posts it; the API and the CLI list the deliveries; a send on demand delivers again.
 */
describe('monthly report pack, end to end', () => {
  let t: TestPlatform;
  let out: TempDir;
  let hook: WebhookReceiver;
  const clock = new ManualClock(APRIL_10);

  beforeAll(async () => {
    out = makeTempDir('citymetrics-e2e-reports-');
    hook = await webhookReceiver([503, 200]);
    t = await startTestPlatform(
      {
        cityTimezone: ZONE,
        reportDir: out.path,
        reportWebhookUrl: hook.url,
        reportWebhookSecret: SECRET,
        reportRetryMinDelayMs: 1,
        reportRetryMaxDelayMs: 5,
      },
      clock,
    );
  });
  afterAll(async () => {
    await t?.close();
    await hook?.close();
    out?.remove();
  });

  it('a month closed through the API is written to the folder and posted to the webhook', async () => {
    expect((await t.api('POST', '/api/rollups/2026-03/close')).status).toBe(201);
    await t.platform.reports.drain();

    const folder = join(out.path, '2026-03', 'v1');
    const manifest = packManifestSchema.parse(
      JSON.parse(readFileSync(join(folder, 'manifest.json'), 'utf8')),
    );
    expect(manifest).toMatchObject({ month: '2026-03', version: 1 });
    expect(readdirSync(folder)).toHaveLength(manifest.files.length + 1);

    // the webhook failed once, then took the same pack (the same hashes as the folder's)
    expect(hook.got).toHaveLength(2);
    expect(hook.got.every((r) => signatureValid(SECRET, r))).toBe(true);
    const posted = JSON.parse(hook.got[1]!.raw.toString('utf8'));
    expect(posted.manifest).toEqual(manifest);

    const month = await t.api<{ closedVersion: number; pack: { version: number }; deliveries: Delivery[] }>(
      'GET',
      '/api/reports/2026-03',
    );
    expect(month.status).toBe(200);
    expect(month.body.closedVersion).toBe(1);
    expect(month.body.pack.version).toBe(1);
    expect(month.body.deliveries.map((d) => [d.target, d.state, d.attempts, d.trigger]).sort()).toEqual([
      ['folder', 'delivered', 1, 'closed'],
      ['webhook', 'delivered', 2, 'closed'],
    ]);
  });

  it('sends on demand (admin only) and answers coded errors', async () => {
    const analyst = await t.platform.apiKeys.create({ role: 'analyst', name: 'analyst' });
    const refused = await t.api<{ error: { code: string } }>(
      'POST',
      '/api/reports/2026-03',
      undefined,
      analyst.token,
    );
    expect(refused.status).toBe(403);

    const sent = await t.api<{ deliveries: Delivery[] }>('POST', '/api/reports/2026-03');
    expect(sent.status).toBe(202);
    expect(sent.body.deliveries.map((d) => [d.target, d.trigger, d.state]).sort()).toEqual([
      ['folder', 'manual', 'pending'],
      ['webhook', 'manual', 'pending'],
    ]);
    await t.platform.reports.drain();
    const all = await t.api<{ targets: Array<{ kind: string }>; deliveries: Delivery[] }>(
      'GET',
      '/api/reports',
    );
    expect(all.body.targets.map((x) => x.kind)).toEqual(['folder', 'webhook']);
    expect(all.body.deliveries.filter((d) => d.trigger === 'manual').map((d) => d.state)).toEqual([
      'delivered',
      'delivered',
    ]);

    const code = async (method: string, path: string) =>
      (await t.api<{ error: { code: string } }>(method, path)).body.error.code;
    expect(await code('POST', '/api/reports/2026-13')).toBe('REPORT_MONTH_INVALID');
    expect(await code('GET', '/api/reports/march')).toBe('REPORT_MONTH_INVALID');
    expect(await code('POST', '/api/reports/2026-04')).toBe('REPORT_MONTH_NOT_CLOSED');
    expect(await code('GET', '/api/reports/2025-01')).toBe('REPORT_UNKNOWN_MONTH');
  });

  it('the CLI lists the deliveries through the API', async () => {
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', 'cli.ts', 'report', 'list', '2026-03', '--json', '--api', t.addresses.httpUrl],
      {
        env: { ...process.env, CITYMETRICS_TOKEN: t.adminToken },
        cwd: join(import.meta.dirname, '..', '..'),
      },
    );
    const listed = JSON.parse(stdout) as { deliveries: Delivery[] };
    expect(listed.deliveries).toHaveLength(4);
    expect(listed.deliveries.every((d) => d.state === 'delivered')).toBe(true);
  });

  it('documents the routes in the OpenAPI document', async () => {
    const doc = await t.api<{ paths: Record<string, Record<string, unknown>> }>('GET', '/api/openapi.json');
    expect(Object.keys(doc.body.paths['/api/reports/{month}'] ?? {}).sort()).toEqual(['get', 'post']);
    expect(Object.keys(doc.body.paths['/api/reports'] ?? {})).toEqual(['get']);
  });
});
