import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { CityError } from '../core/errors.ts';
import { silentLogger } from '../core/logger.ts';
import { kpiRecordsContract } from '../test/contracts/kpi-records.contract.ts';
import { type PostgresTestServer, postgresBinDir, startPostgres } from '../test/servers/postgres.ts';
import type { ManualValueInput } from './kpi-records.ts';
import { KpiStore } from './kpi-store.ts';
import { PG_KPI_SCHEMA_VERSION, PostgresKpiRecords } from './postgres-kpi-records.ts';

const binDir = postgresBinDir();
let server: PostgresTestServer;
/**
 * Another node's write arrives by LISTEN/NOTIFY in milliseconds; the deadline is generous so that a loaded
 * machine cannot fail the test: what is asserted is that it arrives without a restart or a poll.
 */
const WITHIN = { timeout: 10_000, interval: 10 };
const T0 = Date.parse('2026-03-15T12:00:00Z');

beforeAll(async () => {
  if (binDir !== null) server = await startPostgres(binDir);
}, 30_000);
afterAll(async () => {
  await server?.destroy();
});

async function freshDatabase(): Promise<string> {
  const url = await server.createDatabase();
  onTestFinished(() => server.dropDatabase(url));
  return url;
}

/** One node's KPI store on the database, closed (before the database is dropped) when the test ends. */
async function node(url: string): Promise<KpiStore> {
  const store = await KpiStore.openOn(
    await PostgresKpiRecords.open({ url, logger: silentLogger() }),
    silentLogger(),
  );
  onTestFinished(() => store.close());
  return store;
}

const entry = (value: number, enteredBy = 'analyst (k1)'): ManualValueInput => ({
  subjectType: 'kpi',
  subject: 'EC: ICT: ICT: 1C',
  dataPoint: null,
  period: '2025',
  value,
  unit: '%',
  dataQuality: 'extrapolated-survey',
  source: 'NSO',
  evidence: null,
  override: false,
  enteredBy,
  enteredAt: T0,
});

const closed = (closedBy: string) => ({
  period: '2026-02',
  version: 1,
  closedAt: T0,
  closedBy,
  cause: 'closed',
  causes: [],
  entries: [],
});

describe.skipIf(binDir === null)('PostgresKpiRecords on PostgreSQL 15', () => {
  kpiRecordsContract('postgres', async () => {
    const url = await server.createDatabase();
    return {
      open: () => PostgresKpiRecords.open({ url, logger: silentLogger() }),
      cleanup: () => server.dropDatabase(url),
    };
  });

  it("a value entered on one node is the other's within moments, and it hears of it", async () => {
    const url = await freshDatabase();
    const [a, b] = [await node(url), await node(url)];
    const heard = vi.fn();
    b.onExternalChange(heard);
    await a.addManualValues([entry(90)]);
    await a.setTargets([
      { code: 'EN: EN: AQ: 1C', dataPoint: 'PM2.5', value: 10, source: 'EU', setBy: 'a', setAt: T0 },
    ]);
    await a.saveRollup(closed('kpi-1'));
    await vi.waitFor(() => {
      expect(b.currentManualValues().map((m) => m.value)).toEqual([90]);
      expect(b.targets().map((t) => t.value)).toEqual([10]);
      expect(b.latestRollup('2026-02')?.closedBy).toBe('kpi-1');
      // after the reloads the three announcements caused (coalesced: the last one tells)
      expect(heard).toHaveBeenCalled();
    }, WITHIN);
  });

  it('two nodes closing the same month at once: one version 1 is written, and both hold it', async () => {
    const url = await freshDatabase();
    const [a, b] = [await node(url), await node(url)];
    const saved = await Promise.all([a.saveRollup(closed('kpi-1')), b.saveRollup(closed('kpi-2'))]);
    expect(saved.filter(Boolean)).toHaveLength(1);
    const winner = saved[0] ? 'kpi-1' : 'kpi-2';
    // the loser read the winner's version before its saveRollup returned
    const loser = saved[0] ? b : a;
    expect(loser.latestRollup('2026-02')?.closedBy).toBe(winner);
    await vi.waitFor(() => expect(a.latestRollup('2026-02')?.closedBy).toBe(winner), WITHIN);
    expect(b.latestRollup('2026-02')?.closedBy).toBe(winner);
    expect((await server.query('SELECT count(*)::int AS n FROM kpi_rollups', url)).rows).toEqual([{ n: 1 }]);
  });

  it('two nodes superseding the same entry at once leave exactly one current entry', async () => {
    const url = await freshDatabase();
    const [a, b] = [await node(url), await node(url)];
    await a.addManualValues([entry(90)]);
    await vi.waitFor(() => expect(b.currentManualValues()).toHaveLength(1), WITHIN);
    await Promise.all([a.addManualValues([entry(91, 'a')]), b.addManualValues([entry(92, 'b')])]);
    const { rows } = await server.query(
      'SELECT value FROM kpi_manual_values WHERE superseded_by IS NULL ORDER BY id',
      url,
    );
    expect(rows).toHaveLength(1);
    const current = (rows[0] as { value: number }).value;
    await vi.waitFor(() => {
      expect(a.currentManualValues().map((m) => m.value)).toEqual([current]);
      expect(b.currentManualValues().map((m) => m.value)).toEqual([current]);
      // each node ends with the other's entry too, once it read what the other announced
      expect(a.manualHistory('kpi', 'EC: ICT: ICT: 1C')).toHaveLength(3);
      expect(b.manualHistory('kpi', 'EC: ICT: ICT: 1C')).toHaveLength(3);
    }, WITHIN);
  });

  it('brings a schema 1 database forward: its restatement rows keep, with no status or completeness', async () => {
    const url = await freshDatabase();
    const late = [{ kind: 'late-data' as const, readings: 3, devices: ['d1'] }];
    const row = {
      period: '2026-02',
      version: 2,
      code: 'X',
      dataPoint: null,
      oldValue: 1,
      newValue: 2,
      cause: 'late data',
      causes: late,
      at: T0 + 5,
    };
    const first = await KpiStore.openOn(
      await PostgresKpiRecords.open({ url, logger: silentLogger() }),
      silentLogger(),
    );
    await first.saveRollup(closed('kpi-1'));
    await first.saveRollup({ ...closed('kpi-1'), version: 2, cause: 'late data', causes: late }, [
      { ...row, oldStatus: 'provisional', newStatus: 'final', oldCompleteness: 0.5, newCompleteness: 1 },
    ]);
    await first.close();
    // what a release before rows kept the status left in the database
    await server.query(
      `ALTER TABLE kpi_restatements DROP COLUMN old_status, DROP COLUMN new_status,
         DROP COLUMN old_completeness, DROP COLUMN new_completeness;
       UPDATE citymetrics_kpi_schema SET version = 1`,
      url,
    );
    const upgraded = await node(url);
    expect(upgraded.restatements('2026-02')).toEqual([
      { ...row, oldStatus: null, newStatus: null, oldCompleteness: null, newCompleteness: null },
    ]);
    expect(upgraded.rollupVersions('2026-02').map((v) => v.causes)).toEqual([[], late]);
    expect((await server.query('SELECT version FROM citymetrics_kpi_schema', url)).rows).toEqual([
      { version: PG_KPI_SCHEMA_VERSION },
    ]);
  });

  it('refuses a schema of another version as STORE_CORRUPT', async () => {
    const url = await freshDatabase();
    await (await PostgresKpiRecords.open({ url, logger: silentLogger() })).close();
    await server.query(`UPDATE citymetrics_kpi_schema SET version = ${PG_KPI_SCHEMA_VERSION + 1}`, url);
    const err = await PostgresKpiRecords.open({ url, logger: silentLogger() }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CityError);
    expect((err as CityError).code).toBe('STORE_CORRUPT');
  });

  it('a roll-up whose causes are damaged stops the load with STORE_CORRUPT naming the row and field', async () => {
    const url = await freshDatabase();
    const records = await PostgresKpiRecords.open({ url, logger: silentLogger() });
    expect(await records.saveRollup(closed('scheduler'), [])).toBe(true);
    await server.query(`UPDATE kpi_rollups SET causes = '[{"kind": "late-data", "devices": ["d1"]}]'`, url);
    const err = await records.load().then(
      () => null,
      (e: unknown) => e,
    );
    await records.close();
    expect((err as CityError).code).toBe('STORE_CORRUPT');
    expect((err as CityError).message).toContain(
      'PostgreSQL KPI records: roll-up 2026-02 version 1, causes at 0.readings',
    );
  });
});
