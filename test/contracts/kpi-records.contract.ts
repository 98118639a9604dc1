import { describe, expect, it, onTestFinished } from 'vitest';
import { silentLogger } from '../../core/logger.ts';
import type { KpiRecordsBackend, ManualValueInput } from '../../metrics/kpi-records.ts';
import { KpiStore } from '../../metrics/kpi-store.ts';
import type { RestatementRecord, StoredRollup } from '../../metrics/rollup-types.ts';

/**
 * How the suite gets a fresh, empty place for KPI records: `open` opens a backend on it, as often as the
 * test asks (a reopen, or a second node on the same database); `cleanup` runs after every one is closed.
 */
export type OpenKpiRecordsPlace = () => Promise<{
  open: () => Promise<KpiRecordsBackend>;
  cleanup: () => Promise<void>;
}>;

const T0 = Date.parse('2026-03-15T12:00:00Z');

const entry = (over: Partial<ManualValueInput> = {}): ManualValueInput => ({
  subjectType: 'kpi',
  subject: 'EC: ICT: ICT: 1C',
  dataPoint: null,
  period: '2025',
  value: 90,
  unit: '%',
  dataQuality: 'extrapolated-survey',
  source: 'NSO',
  evidence: 'https://example.org/survey-2025.pdf',
  override: false,
  enteredBy: 'analyst (k1)',
  enteredAt: T0,
  ...over,
});

export const rollup = (version: number, over: Partial<StoredRollup> = {}): StoredRollup => ({
  period: '2026-02',
  version,
  closedAt: T0 + version,
  closedBy: 'scheduler',
  cause: version === 1 ? 'closed' : 'late data',
  causes: version === 1 ? [] : [{ kind: 'late-data', readings: 3, devices: ['d1'] }],
  entries: [
    {
      code: 'EN: EN: AQ: 1C',
      compactCode: 'ENAQ1C',
      name: 'Air Pollution',
      dimension: 'Environment',
      subDimension: 'Environment',
      category: 'Air Quality',
      dataPoint: 'PM2.5',
      value: 11.25 + version,
      unit: 'µg/m³',
      period: '2026-02',
      dataQuality: 'accurate-measurement',
      completeness: 0.987654321,
      status: 'final',
      provisional: false,
      source: 'sensor',
      band: 'B',
      points: 3,
      target: 10,
      version,
      lineage: null,
    },
  ],
  ...over,
});

const restatement = (version: number, over: Partial<RestatementRecord> = {}): RestatementRecord => ({
  period: '2026-02',
  version,
  code: 'EN: EN: AQ: 1C',
  dataPoint: 'PM2.5',
  oldValue: 11.25 + version - 1,
  newValue: 11.25 + version,
  oldStatus: 'provisional',
  newStatus: 'final',
  oldCompleteness: 0.876543219,
  newCompleteness: 0.987654321,
  cause: 'late data',
  causes: [{ kind: 'late-data', readings: 3, devices: ['d1'] }],
  at: T0 + version,
  ...over,
});

/**
 * The contract every KPI records backend passes (SQLite file, PostgreSQL), driven through the KpiStore
 * that the KPI engine uses. Closing a store and opening another on the same place must give back what
 * the first wrote, byte for byte.
 */
export function kpiRecordsContract(name: string, place: OpenKpiRecordsPlace): void {
  async function fresh() {
    const { open, cleanup } = await place();
    const opened: KpiStore[] = [];
    onTestFinished(async () => {
      for (const s of opened) await s.close();
      await cleanup();
    });
    const store = async () => {
      const s = await KpiStore.openOn(await open(), silentLogger());
      opened.push(s);
      return s;
    };
    return { store };
  }

  describe(`KPI records contract: ${name}`, () => {
    it('starts empty', async () => {
      const s = await (await fresh()).store();
      expect(s.currentManualValues()).toEqual([]);
      expect(s.profileRecords()).toEqual([]);
      expect(s.targets()).toEqual([]);
      expect(s.closedPeriods()).toEqual([]);
    });

    it('keeps manual history: a new entry supersedes the current one, and a reopen sees the same', async () => {
      const f = await fresh();
      const s = await f.store();
      const [first] = await s.addManualValues([entry()]);
      const [second] = await s.addManualValues([entry({ value: 93, enteredAt: T0 + 1, evidence: null })]);
      const other = await s.addManualValues([entry({ subject: 'EC: ICT: ICT: 2C', value: 40 })]);
      expect(first!.id).not.toBe(second!.id);
      expect(s.currentManualValues('kpi').map((m) => m.value)).toEqual([93, 40]);
      const history = s.manualHistory('kpi', 'EC: ICT: ICT: 1C');
      expect(history.map((m) => [m.value, m.supersededBy])).toEqual([
        [90, second!.id],
        [93, null],
      ]);
      expect(history[0]).toEqual({ ...entry(), id: first!.id, supersededBy: second!.id });
      const again = await f.store();
      expect(again.manualHistory('kpi', 'EC: ICT: ICT: 1C')).toEqual(history);
      expect(again.currentManualValues()).toEqual(s.currentManualValues());
      expect(other[0]!.supersededBy).toBeNull();
    });

    it('an import with two entries for one subject keeps the later one current', async () => {
      const f = await fresh();
      const s = await f.store();
      const added = await s.addManualValues([entry({ value: 1 }), entry({ value: 2 })]);
      expect(s.currentManualValues().map((m) => m.value)).toEqual([2]);
      const again = await f.store();
      expect(again.manualHistory('kpi', 'EC: ICT: ICT: 1C').map((m) => [m.value, m.supersededBy])).toEqual([
        [1, added[1]!.id],
        [2, null],
      ]);
      expect(again.currentManualValues().map((m) => m.value)).toEqual([2]);
    });

    it('keeps formula inputs apart from KPI values, and data points apart', async () => {
      const s = await (await fresh()).store();
      await s.addManualValues([
        entry({ subjectType: 'input', subject: 'waterCustomers', value: 120_000, unit: 'customers' }),
        entry({ dataPoint: 'a', value: 1 }),
        entry({ dataPoint: 'b', value: 2 }),
      ]);
      expect(s.currentManualValues('input').map((m) => m.subject)).toEqual(['waterCustomers']);
      expect(
        s
          .currentManualValues('kpi')
          .map((m) => m.dataPoint)
          .sort(),
      ).toEqual(['a', 'b']);
    });

    it('orders the city profile by field, effective date, then entry order', async () => {
      const f = await fresh();
      const s = await f.store();
      const base = { dataQuality: null, source: null, enteredBy: 'a', enteredAt: T0 };
      await s.addProfile([
        { ...base, field: 'population', value: 104_000, effectiveFrom: '2026-01-01', effectiveFromMs: 2 },
        { ...base, field: 'name', value: 'Lyon', effectiveFrom: '2020-01-01', effectiveFromMs: 1 },
      ]);
      await s.addProfile([
        { ...base, field: 'population', value: 100_000, effectiveFrom: '2020-01-01', effectiveFromMs: 1 },
        { ...base, field: 'population', value: 105_000, effectiveFrom: '2026-01-01', effectiveFromMs: 2 },
      ]);
      const order = (st: KpiStore) => st.profileRecords().map((r) => `${r.field}=${r.value}`);
      expect(order(s)).toEqual(['name=Lyon', 'population=100000', 'population=104000', 'population=105000']);
      expect(order(await f.store())).toEqual(order(s));
    });

    it('sets targets by code and data point, a second time replacing the first', async () => {
      const f = await fresh();
      const s = await f.store();
      const t = { code: 'EN: EN: AQ: 1C', value: 10, source: 'EU 2030', setBy: 'a', setAt: T0 };
      await s.setTargets([
        { ...t, dataPoint: 'PM2.5' },
        { ...t, dataPoint: 'PM10', value: 20 },
      ]);
      await s.setTargets([{ ...t, dataPoint: 'PM2.5', value: 5, setAt: T0 + 1 }]);
      const read = (st: KpiStore) =>
        st
          .targets()
          .map((x) => `${x.dataPoint}=${x.value}`)
          .sort();
      expect(read(s)).toEqual(['PM10=20', 'PM2.5=5']);
      expect(read(await f.store())).toEqual(['PM10=20', 'PM2.5=5']);
    });

    it('writes a period version once: a second close of the same version stores nothing', async () => {
      const f = await fresh();
      const s = await f.store();
      expect(await s.saveRollup(rollup(1))).toBe(true);
      expect(await s.saveRollup(rollup(1, { closedBy: 'someone else', entries: [] }))).toBe(false);
      expect(s.latestRollup('2026-02')).toEqual(rollup(1));
      expect(await s.saveRollup(rollup(2), [restatement(2)])).toBe(true);
      expect(await s.saveRollup(rollup(2, { cause: 'other' }), [restatement(2), restatement(2)])).toBe(false);
      const again = await f.store();
      expect(again.closedPeriods()).toEqual(['2026-02']);
      expect(again.latestRollup('2026-02')).toEqual(rollup(2));
      expect(again.rollupVersion('2026-02', 1)).toEqual(rollup(1));
      expect(again.rollupVersions('2026-02').map((v) => [v.version, v.cause])).toEqual([
        [1, 'closed'],
        [2, 'late data'],
      ]);
      expect(again.restatements('2026-02')).toEqual([restatement(2)]);
      expect(again.latestRollup('2026-03')).toBeNull();
    });

    it("keeps each restatement row's status and completeness, null where it has none", async () => {
      const f = await fresh();
      const s = await f.store();
      await s.saveRollup(rollup(1));
      const status = {
        kind: 'status' as const,
        code: 'EN: EN: AQ: 1C',
        dataPoint: 'PM2.5',
        oldStatus: 'provisional' as const,
        newStatus: 'final' as const,
        oldCompleteness: 0.876543219,
        newCompleteness: 0.987654321,
      };
      const rows = [
        restatement(2, { causes: [{ kind: 'late-data', readings: 3, devices: ['d1'] }, status] }),
        restatement(2, {
          dataPoint: 'NO2',
          oldStatus: null,
          newStatus: 'no-data-expected',
          oldCompleteness: null,
          newCompleteness: null,
        }),
      ];
      expect(await s.saveRollup(rollup(2), rows)).toBe(true);
      expect((await f.store()).restatements('2026-02')).toEqual(rows);
    });
  });
}
