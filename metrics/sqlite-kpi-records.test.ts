import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { CityError } from '../core/errors.ts';
import { kpiRecordsContract, rollup } from '../test/contracts/kpi-records.contract.ts';
import { makeTempDir } from '../test/helpers/temp-dir.ts';
import { SqliteKpiRecords } from './sqlite-kpi-records.ts';

kpiRecordsContract('sqlite', async () => {
  const dir = makeTempDir('citymetrics-kpi-records-');
  return {
    open: async () => SqliteKpiRecords.open(dir.file('kpi.db')),
    cleanup: async () => dir.remove(),
  };
});

describe('KPI records read back: damaged JSON columns', () => {
  // February's version 1, as the contract suite stores it.
  const frozen = rollup(1);

  /** A kpi.db holding one frozen month, then one column of it replaced by hand. */
  async function damaged(
    column: 'entries' | 'causes',
    text: string,
  ): Promise<{ file: string; remove: () => void }> {
    const dir = makeTempDir('citymetrics-kpi-damaged-');
    const file = dir.file('kpi.db');
    const records = SqliteKpiRecords.open(file);
    expect(await records.saveRollup(frozen, [])).toBe(true);
    await records.close();
    const db = new Database(file);
    db.prepare(`UPDATE rollups SET ${column} = ?`).run(text);
    db.close();
    return { file, remove: () => dir.remove() };
  }

  const loadError = (file: string): CityError | undefined => {
    const records = SqliteKpiRecords.open(file);
    try {
      records.loadSync();
      return undefined;
    } catch (err) {
      return err as CityError;
    } finally {
      void records.close();
    }
  };

  it('an entry missing its status stops the load with STORE_CORRUPT naming the file, month, version and field', async () => {
    const { status: _dropped, ...rest } = frozen.entries[0]!;
    const d = await damaged('entries', JSON.stringify([rest]));
    try {
      const err = loadError(d.file);
      expect(err?.code).toBe('STORE_CORRUPT');
      expect(err?.message).toContain(d.file);
      expect(err?.message).toContain('roll-up 2026-02 version 1, entries at 0.status');
    } finally {
      d.remove();
    }
  });

  it('a cause of no known kind, and a column that is not JSON, are damage too', async () => {
    const cause = await damaged('causes', JSON.stringify([{ kind: 'sunspots', readings: 1 }]));
    const text = await damaged('entries', '[{"code": "EN: EN: AQ: 1C",');
    try {
      expect(loadError(cause.file)?.message).toContain('roll-up 2026-02 version 1, causes at 0.kind');
      expect(loadError(text.file)?.message).toContain('roll-up 2026-02 version 1, entries is not JSON');
    } finally {
      cause.remove();
      text.remove();
    }
  });

  it('what the schema does not name is kept as it was written, not stripped', async () => {
    const extra = [{ ...frozen.entries[0]!, lineage: null, annotation: 'kept' }];
    const d = await damaged('entries', JSON.stringify(extra));
    try {
      const records = SqliteKpiRecords.open(d.file);
      expect(records.loadSync().rollups[0]?.entries).toEqual(extra);
      await records.close();
    } finally {
      d.remove();
    }
  });
});
