import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir, type TempDir } from '../../test/helpers/temp-dir.ts';
import { loadCatalogue } from '../catalogue/catalogue.ts';
import { rollupDocumentSchema } from '../exports/index.ts';
import { FolderTarget } from './folder-target.ts';
import { packManifestSchema } from './pack-manifest.ts';
import { ICT, type KpiFixture, kpiFixture } from './report-pack-fixture.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A month closes → its pack is written to REPORT_DIR, whole, and every file reads back with its own tools. */
describe('report pack to a folder', () => {
  let dir: TempDir;
  let out: TempDir;
  let f: KpiFixture;

  beforeEach(async () => {
    dir = makeTempDir('citymetrics-report-');
    out = makeTempDir('citymetrics-report-out-');
    f = await kpiFixture(dir);
  });

  afterEach(async () => {
    await f.close();
    dir.remove();
    out.remove();
  });

  it('writes every file of the closed month into <dir>/<YYYY-MM>/v1, each readable and hashed', async () => {
    const packs = f.packs([new FolderTarget(out.path)]);
    await packs.start();
    await f.closeFebruary();
    await packs.drain();

    const folder = join(out.path, '2026-02', 'v1');
    expect(readdirSync(folder).sort()).toEqual(
      [
        'consistency.json',
        'manifest.json',
        'rollup.csv',
        'rollup.json',
        'rollup.xlsx',
        'snapshot.html',
      ].sort(),
    );
    // nothing half-written is left beside it
    expect(readdirSync(join(out.path, '2026-02'))).toEqual(['v1']);
    const read = (name: string) => readFileSync(join(folder, name));
    const entries = f.kpis.kpiStore.latestRollup('2026-02')!.entries;

    const manifest = packManifestSchema.parse(JSON.parse(read('manifest.json').toString('utf8')));
    expect(manifest).toMatchObject({ month: '2026-02', version: 1, city: { name: 'Lyon <Test> & Co' } });
    expect(manifest.files.map((x) => x.name)).toEqual([
      'rollup.csv',
      'rollup.xlsx',
      'rollup.json',
      'snapshot.html',
      'consistency.json',
    ]);
    for (const file of manifest.files) {
      expect(sha(read(file.name)), file.name).toBe(file.sha256);
      expect(read(file.name).length).toBe(file.bytes);
    }
    const counts = manifest.statusCounts;
    expect(counts.final + counts.provisional + counts['no-data-expected']).toBe(entries.length);
    // the status is the stored entries' (metrics/kpi-status.ts), never recomputed here
    expect(counts.provisional).toBe(entries.filter((e) => e.status === 'provisional').length);
    expect(manifest.status).toBe(counts.provisional === 0 && counts.final > 0 ? 'final' : 'provisional');

    const rows = parse(read('rollup.csv'), { bom: true, columns: true }) as Array<Record<string, string>>;
    expect(rows).toHaveLength(entries.length);
    expect(rows.find((r) => r.code === ICT)).toMatchObject({ value: '80', version: '1' });

    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(read('rollup.xlsx') as unknown as Parameters<typeof wb.xlsx.load>[0]);
    const values = wb.getWorksheet('Values')!;
    const codes: string[] = [];
    values.eachRow((row) => {
      const code = row.getCell(4).value;
      if (typeof code === 'string' && loadCatalogue().get(code) !== undefined) codes.push(code);
    });
    expect(codes).toHaveLength(entries.length);

    const doc = rollupDocumentSchema.parse(JSON.parse(read('rollup.json').toString('utf8')));
    expect(doc).toMatchObject({ period: '2026-02', version: 1, status: 'closed' });
    expect(doc.entries.find((e) => e.code === ICT)?.value).toBe(80);

    const html = read('snapshot.html').toString('utf8');
    for (const kpi of loadCatalogue().kpis) expect(html, kpi.code).toContain(`data-code="${kpi.code}"`);
    expect(html).toContain('@media print');
    // self-contained: nothing is fetched, the city name is escaped
    expect(html).not.toMatch(/<script|<link|src=|url\(|https?:\/\//i);
    expect(html).toContain('Lyon &lt;Test&gt; &amp; Co');

    const consistency = JSON.parse(read('consistency.json').toString('utf8'));
    expect(consistency).toMatchObject({
      kind: 'citymetrics.consistency-report',
      period: '2026-02',
      version: 1,
    });
    expect(consistency.errors + consistency.warnings).toBe(consistency.findings.length);

    const [delivery] = await packs.list();
    expect(delivery).toMatchObject({
      month: '2026-02',
      version: 1,
      target: 'folder',
      destination: out.path,
      trigger: 'closed',
      state: 'delivered',
      attempts: 1,
      lastError: null,
    });
    expect(delivery!.deliveredAt).toBe(f.clock.now());
    expect(delivery!.fileHashes['manifest.json']).toBe(sha(read('manifest.json')));
    expect(delivery!.fileHashes['rollup.xlsx']).toBe(manifest.files[1]!.sha256);
  });

  it('a restatement makes a new version and a new pack beside the first', async () => {
    const packs = f.packs([new FolderTarget(out.path)]);
    await packs.start();
    await f.closeFebruary();
    await f.restateFebruary(85);
    await packs.drain();

    expect(readdirSync(join(out.path, '2026-02')).sort()).toEqual(['v1', 'v2']);
    const v2 = JSON.parse(readFileSync(join(out.path, '2026-02', 'v2', 'rollup.json'), 'utf8'));
    expect(v2.entries.find((e: { code: string }) => e.code === ICT).value).toBe(85);
    const v1 = JSON.parse(readFileSync(join(out.path, '2026-02', 'v1', 'rollup.json'), 'utf8'));
    expect(v1.entries.find((e: { code: string }) => e.code === ICT).value).toBe(80);
    expect((await packs.list()).map((d) => [d.version, d.trigger, d.state])).toEqual([
      [2, 'restated', 'delivered'],
      [1, 'closed', 'delivered'],
    ]);
    expect(await packs.month('2026-02')).toMatchObject({ closedVersion: 2, pack: { version: 2 } });
  });

  it('on demand: the same pack (same hashes) delivered again, recorded as a manual delivery', async () => {
    const packs = f.packs([new FolderTarget(out.path)]);
    await packs.start();
    await f.closeFebruary();
    await packs.drain();
    const first = (await packs.list())[0]!;
    const sent = await packs.send('2026-02');
    await packs.drain();
    expect(sent.deliveries).toHaveLength(1);
    const again = (await packs.list())[0]!;
    expect(again).toMatchObject({ id: sent.deliveries[0]!.id, trigger: 'manual', state: 'delivered' });
    expect(again.fileHashes).toEqual(first.fileHashes);
  });

  it('a month closed while no pack was listening is caught up at the next start', async () => {
    // the record exists (as on a platform that crashed between the roll-up commit and the event)
    const early = f.packs([new FolderTarget(out.path)]);
    await early.close();
    await f.closeFebruary();
    expect(existsSync(join(out.path, '2026-02'))).toBe(false);
    const packs = f.packs([new FolderTarget(out.path)]);
    await packs.start();
    await packs.drain();
    expect(readdirSync(join(out.path, '2026-02'))).toEqual(['v1']);
    expect((await packs.list())[0]).toMatchObject({ trigger: 'catch-up', state: 'delivered' });
  });
});
