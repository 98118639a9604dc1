import { createHash } from 'node:crypto';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { PackFile, ReportPack } from '../../metrics/report-pack/build-pack.ts';
import { MANIFEST_FILE, type PackManifest } from '../../metrics/report-pack/pack-manifest.ts';
import { ERROR_MAX_CHARS, type ReportRecords } from '../../metrics/report-pack/report-records.ts';

/**
 * How the suite gets a fresh, empty place for a report record: `open(now)` opens it as often as the test
 * asks (a restart, or the kpi node that takes over), `now` being the opener's clock; `cleanup` runs after
 * every one is closed.
 */
export type OpenReportRecordsPlace = () => Promise<{
  open: (now: number) => Promise<ReportRecords>;
  cleanup: () => Promise<void>;
}>;

const T0 = Date.parse('2026-03-20T12:00:00Z');
const FOLDER = { target: 'folder' as const, destination: '/srv/reports' };
const HOOK = { target: 'webhook' as const, destination: 'https://example.org/hook' };

const file = (name: string, body: Buffer): PackFile => ({
  name,
  contentType: 'application/octet-stream',
  bytes: body.length,
  sha256: createHash('sha256').update(body).digest('hex'),
  body,
});

/** A pack with bytes no text encoding keeps (every byte value), so a backend that mangles them is seen. */
export function pack(month: string, version: number): ReportPack {
  const binary = Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256));
  const files = [file('rollup.csv', Buffer.from(`code,value\nX,${version}\n`)), file('rollup.xlsx', binary)];
  const manifest: PackManifest = {
    schemaVersion: 1,
    kind: 'citymetrics.report-pack',
    city: { name: 'Lyon' },
    month,
    version,
    status: 'provisional',
    statusCounts: { final: 1, provisional: 2, 'no-data-expected': 3 },
    closedAt: new Date(T0).toISOString(),
    generatedAt: new Date(T0).toISOString(),
    files: files.map(({ body: _b, ...info }) => info),
  };
  files.push(file(MANIFEST_FILE.name, Buffer.from(JSON.stringify(manifest))));
  return { month, version, manifest, files };
}

const failure = (message: string) => ({ code: 'REPORT_DELIVERY_FAILED', message });

export function reportRecordsContract(name: string, place: OpenReportRecordsPlace): void {
  describe(`report records contract: ${name}`, () => {
    async function fresh() {
      const p = await place();
      const opened: ReportRecords[] = [];
      onTestFinished(async () => {
        for (const r of opened) await r.close();
        await p.cleanup();
      });
      return async (now = T0) => {
        const r = await p.open(now);
        opened.push(r);
        return r;
      };
    }

    it('begins when first opened: a later opener keeps that instant', async () => {
      const open = await fresh();
      const first = await open(T0);
      expect(await first.createdAt()).toBe(T0);
      const later = await open(T0 + 86_400_000);
      expect(await later.createdAt()).toBe(T0);
    });

    it('owes a pack once, by month then version; a built one is not owed again', async () => {
      const records = await (await fresh())();
      await records.owe('2026-03', 1, 'closed', T0);
      await records.owe('2026-02', 2, 'restated', T0);
      await records.owe('2026-03', 1, 'catch-up', T0 + 1);
      expect(await records.owed()).toEqual([
        { month: '2026-02', version: 2, trigger: 'restated' },
        { month: '2026-03', version: 1, trigger: 'closed' },
      ]);
      await records.dropOwed('2026-02', 2);
      expect(await records.owed()).toEqual([{ month: '2026-03', version: 1, trigger: 'closed' }]);

      expect(await records.savePack(pack('2026-03', 1), [FOLDER], 'closed', T0)).toHaveLength(1);
      // settled by the save
      expect(await records.owed()).toEqual([]);
      await records.owe('2026-03', 1, 'catch-up', T0 + 2);
      expect(await records.owed()).toEqual([]);
      expect(await records.hasPack('2026-03', 1)).toBe(true);
      expect(await records.hasPack('2026-03', 2)).toBe(false);
    });

    it('keeps a pack byte for byte with its pending deliveries; a second save of it stores nothing', async () => {
      const open = await fresh();
      const records = await open();
      const built = pack('2026-03', 1);
      const deliveries = await records.savePack(built, [FOLDER, HOOK], 'closed', T0);
      expect(deliveries?.map((d) => [d.target, d.destination, d.state, d.attempts, d.trigger])).toEqual([
        ['folder', '/srv/reports', 'pending', 0, 'closed'],
        ['webhook', 'https://example.org/hook', 'pending', 0, 'closed'],
      ]);
      expect(deliveries![0]).toMatchObject({
        month: '2026-03',
        version: 1,
        createdAt: T0,
        lastError: null,
        lastErrorCode: null,
        lastAttemptAt: null,
        deliveredAt: null,
        fileHashes: Object.fromEntries(built.files.map((f) => [f.name, f.sha256])),
      });
      expect(deliveries![1]!.id).toBeGreaterThan(deliveries![0]!.id);

      // another node's build of the same version, a little later: refused whole
      const again = { ...pack('2026-03', 1), manifest: { ...built.manifest, status: 'final' as const } };
      expect(await (await open()).savePack(again, [FOLDER], 'catch-up', T0 + 5)).toBeNull();
      expect(await records.deliveries()).toHaveLength(2);

      const read = await (await open()).pack('2026-03', 1);
      expect(read?.manifest).toEqual(built.manifest);
      expect(read?.files.map((f) => f.name)).toEqual(built.files.map((f) => f.name));
      for (const [i, f] of built.files.entries()) {
        expect(read!.files[i]!.body.equals(f.body), f.name).toBe(true);
        expect(read!.files[i]).toMatchObject({
          contentType: f.contentType,
          sha256: f.sha256,
          bytes: f.bytes,
        });
      }
      expect(await records.pack('2026-03', 2)).toBeNull();
      expect(await records.latestPack('2026-03')).toEqual({
        month: '2026-03',
        version: 1,
        status: 'provisional',
        builtAt: T0,
      });
      await records.savePack(pack('2026-03', 2), [], 'restated', T0 + 10);
      expect(await records.latestPack('2026-03')).toMatchObject({ version: 2, builtAt: T0 + 10 });
      expect(await records.latestPack('2026-04')).toBeNull();
    });

    it('lists deliveries newest first, of a month, at most a limit; pending oldest first', async () => {
      const records = await (await fresh())();
      await records.savePack(pack('2026-02', 1), [FOLDER], 'closed', T0);
      const march = pack('2026-03', 1);
      await records.savePack(march, [FOLDER], 'closed', T0 + 1);
      const manual = await records.addDeliveries(march, [FOLDER, HOOK], 'manual', T0 + 2);
      expect(manual.map((d) => [d.trigger, d.target, d.state])).toEqual([
        ['manual', 'folder', 'pending'],
        ['manual', 'webhook', 'pending'],
      ]);
      const all = await records.deliveries();
      expect(all.map((d) => [d.month, d.trigger, d.target])).toEqual([
        ['2026-03', 'manual', 'webhook'],
        ['2026-03', 'manual', 'folder'],
        ['2026-03', 'closed', 'folder'],
        ['2026-02', 'closed', 'folder'],
      ]);
      expect((await records.deliveries({ month: '2026-02' })).map((d) => d.month)).toEqual(['2026-02']);
      expect(await records.deliveries({ limit: 2 })).toEqual(all.slice(0, 2));
      expect((await records.pending()).map((d) => d.id)).toEqual(all.map((d) => d.id).reverse());
      expect(await records.delivery(all[0]!.id)).toEqual(all[0]);
      expect(await records.delivery(999_999)).toBeNull();
    });

    it('a delivery counts its failed attempts, leaves pending once, and is never marked delivered twice', async () => {
      const open = await fresh();
      const leader = await open();
      const [d] = (await leader.savePack(pack('2026-03', 1), [HOOK], 'closed', T0))!;
      await leader.recordFailure(d!.id, T0 + 1, failure(`HTTP 503: ${'x'.repeat(2_000)}`), false);
      // what the node taking over reads: the attempts made count against the same budget
      const next = await open(T0 + 2);
      const seen = await next.delivery(d!.id);
      expect(seen).toMatchObject({
        state: 'pending',
        attempts: 1,
        lastAttemptAt: T0 + 1,
        lastErrorCode: 'REPORT_DELIVERY_FAILED',
      });
      expect(seen!.lastError!.length).toBe(ERROR_MAX_CHARS);
      expect((await next.pending()).map((p) => p.id)).toEqual([d!.id]);

      expect(await next.recordDelivered(d!.id, T0 + 3)).toBe(true);
      // the old leader finishing its own attempt late changes nothing
      expect(await leader.recordDelivered(d!.id, T0 + 4)).toBe(false);
      await leader.recordFailure(d!.id, T0 + 5, failure('late'), true);
      await leader.markFailed(d!.id, T0 + 6, failure('late'));
      expect(await next.delivery(d!.id)).toMatchObject({
        state: 'delivered',
        attempts: 2,
        deliveredAt: T0 + 3,
        lastAttemptAt: T0 + 3,
        lastError: seen!.lastError,
      });
      expect(await next.pending()).toEqual([]);
    });

    it('a final failure or a spent budget fails a delivery for good', async () => {
      const records = await (await fresh())();
      const [a, b] = (await records.savePack(pack('2026-03', 1), [FOLDER, HOOK], 'closed', T0))!;
      await records.recordFailure(a!.id, T0 + 1, failure('HTTP 422: no thanks'), true);
      expect(await records.delivery(a!.id)).toMatchObject({
        state: 'failed',
        attempts: 1,
        lastError: 'HTTP 422: no thanks',
      });
      await records.markFailed(b!.id, T0 + 2, { code: 'REPORT_NO_TARGET', message: 'gone' });
      expect(await records.delivery(b!.id)).toMatchObject({
        state: 'failed',
        attempts: 0,
        lastErrorCode: 'REPORT_NO_TARGET',
        lastAttemptAt: T0 + 2,
      });
      expect(await records.recordDelivered(b!.id, T0 + 3)).toBe(false);
      expect(await records.pending()).toEqual([]);
    });
  });
}
