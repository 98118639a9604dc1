import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { CityError } from '../../core/errors.ts';
import { pack, reportRecordsContract } from '../../test/contracts/report-records.contract.ts';
import { makeTempDir } from '../../test/helpers/temp-dir.ts';
import { SqliteReportRecords } from './sqlite-report-records.ts';

reportRecordsContract('SQLite (reports.db)', async () => {
  const dir = makeTempDir('cm-report-records-');
  return {
    open: async (now) => SqliteReportRecords.open({ dataDir: dir.path, now }),
    cleanup: async () => dir.remove(),
  };
});

describe('report records read back: a damaged file list', () => {
  it('stops the read with STORE_CORRUPT naming the file, the delivery and the field', async () => {
    const dir = makeTempDir('cm-report-damaged-');
    try {
      const records = await SqliteReportRecords.open({ dataDir: dir.path, now: 0 });
      const [d] = (await records.savePack(
        pack('2026-03', 1),
        [{ target: 'folder', destination: '/srv' }],
        'closed',
        1,
      ))!;
      await records.close();
      const db = new Database(records.location);
      db.prepare('UPDATE deliveries SET file_hashes = ?').run('{"rollup.csv": 42}');
      db.close();
      const again = await SqliteReportRecords.open({ dataDir: dir.path, now: 0 });
      const err = await again.delivery(d!.id).then(
        () => null,
        (e: unknown) => e as CityError,
      );
      await again.close();
      expect(err?.code).toBe('STORE_CORRUPT');
      expect(err?.message).toContain(records.location);
      expect(err?.message).toContain(`delivery ${d!.id}, file_hashes at rollup.csv`);
    } finally {
      dir.remove();
    }
  });
});
