import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir, type TempDir } from '../../test/helpers/temp-dir.ts';
import {
  type Received,
  webhookReceiver as receiver,
  signatureValid as validFor,
  type WebhookReceiver,
} from '../../test/helpers/webhook-receiver.ts';
import { packManifestSchema } from './pack-manifest.ts';
import { type KpiFixture, kpiFixture } from './report-pack-fixture.ts';
import { WebhookTarget } from './webhook-target.ts';

const SECRET = 'a-shared-secret-of-the-receiver';

const signatureValid = (r: Received) => validFor(SECRET, r);

describe('report pack to a webhook', () => {
  let dir: TempDir;
  let f: KpiFixture;
  let hook: WebhookReceiver | undefined;

  beforeEach(async () => {
    dir = makeTempDir('citymetrics-webhook-');
    f = await kpiFixture(dir);
  });

  afterEach(async () => {
    await f.close();
    await hook?.close();
    hook = undefined;
    dir.remove();
  });

  const target = (url: string) =>
    new WebhookTarget({ url, secret: SECRET, timeoutMs: 10_000, clock: f.clock });

  it('retries a receiver that fails twice, then records the delivery with its attempts and hashes', async () => {
    hook = await receiver([503, 500, 200]);
    const packs = f.packs([target(hook.url)]);
    await packs.start();
    await f.closeFebruary();
    await packs.drain();

    expect(hook.got).toHaveLength(3);
    for (const r of hook.got) {
      expect(signatureValid(r)).toBe(true);
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers['x-citymetrics-pack']).toBe('2026-02/v1');
    }
    // one delivery: the same id on every retry
    expect(new Set(hook.got.map((r) => r.headers['x-citymetrics-delivery'])).size).toBe(1);
    const body = JSON.parse(hook.got[2]!.raw.toString('utf8'));
    const manifest = packManifestSchema.parse(body.manifest);
    expect(manifest).toMatchObject({ month: '2026-02', version: 1 });
    const files = body.files as Array<{ name: string; sha256: string; base64: string }>;
    expect(files.map((x) => x.name)).toEqual([...manifest.files.map((x) => x.name), 'manifest.json']);
    for (const file of files)
      expect(createHash('sha256').update(Buffer.from(file.base64, 'base64')).digest('hex'), file.name).toBe(
        file.sha256,
      );
    for (const info of manifest.files)
      expect(files.find((x) => x.name === info.name)?.sha256).toBe(info.sha256);

    const [d] = await packs.list();
    expect(d).toMatchObject({
      id: Number(hook.got[0]!.headers['x-citymetrics-delivery']),
      target: 'webhook',
      // the query (a token) is never recorded
      destination: hook.url.replace(/\?.*$/, ''),
      state: 'delivered',
      attempts: 3,
      lastErrorCode: 'REPORT_DELIVERY_FAILED',
    });
    expect(d!.lastError).toContain('HTTP 500');
    expect(d!.fileHashes).toEqual(Object.fromEntries(files.map((x) => [x.name, x.sha256])));
  });

  it('a body changed in transit fails the signature check', async () => {
    hook = await receiver([200]);
    const packs = f.packs([target(hook.url)]);
    await packs.start();
    await f.closeFebruary();
    await packs.drain();
    const r = hook.got[0]!;
    expect(signatureValid(r)).toBe(true);
    const tampered = Buffer.from(r.raw.toString('utf8').replace('"version":1', '"version":7'));
    expect(tampered.equals(r.raw)).toBe(false);
    expect(signatureValid({ ...r, raw: tampered })).toBe(false);
  });

  it('a 4xx refusal is not retried: the delivery fails at once with the answer kept', async () => {
    hook = await receiver([422]);
    const packs = f.packs([target(hook.url)]);
    await packs.start();
    await f.closeFebruary();
    await packs.drain();
    expect(hook.got).toHaveLength(1);
    const [d] = await packs.list();
    expect(d).toMatchObject({ state: 'failed', attempts: 1, lastErrorCode: 'REPORT_DELIVERY_FAILED' });
    expect(d!.lastError).toContain('HTTP 422: no thanks (422)');
  });

  it('gives up after REPORT_RETRY_MAX retries', async () => {
    hook = await receiver([503]);
    const packs = f.packs([target(hook.url)], { retries: 2, minDelayMs: 1, maxDelayMs: 2 });
    await packs.start();
    await f.closeFebruary();
    await packs.drain();
    expect(hook.got).toHaveLength(3);
    expect((await packs.list())[0]).toMatchObject({ state: 'failed', attempts: 3 });
  });

  it('a delivery pending at shutdown is delivered by the next start, on the same record', async () => {
    hook = await receiver([503]);
    // the back-off after the first failure outlasts the test: the stop cuts it
    const first = f.packs([target(hook.url)], { retries: 5, minDelayMs: 600_000, maxDelayMs: 600_000 });
    await first.start();
    await f.closeFebruary();
    await hook.requests(1);
    expect(await first.close()).toEqual({ pending: 1 });
    await hook.close();

    hook = await receiver([200]);
    const second = f.packs([target(hook.url)], { retries: 5, minDelayMs: 1, maxDelayMs: 2 });
    await second.start();
    await second.drain();
    expect(hook.got).toHaveLength(1);
    expect(signatureValid(hook.got[0]!)).toBe(true);
    const [d] = await second.list();
    expect(await second.list()).toHaveLength(1);
    expect(d).toMatchObject({ state: 'delivered', trigger: 'closed' });
    expect(Number(hook.got[0]!.headers['x-citymetrics-delivery'])).toBe(d!.id);
    // the attempt the first run made counts (1 or 2: the stop may have cut the first answer's recording)
    expect(d!.attempts).toBeGreaterThanOrEqual(1);
  });
});
