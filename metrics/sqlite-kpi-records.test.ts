import { kpiRecordsContract } from '../test/contracts/kpi-records.contract.ts';
import { makeTempDir } from '../test/helpers/temp-dir.ts';
import { SqliteKpiRecords } from './sqlite-kpi-records.ts';

kpiRecordsContract('sqlite', async () => {
  const dir = makeTempDir('citymetrics-kpi-records-');
  return {
    open: async () => SqliteKpiRecords.open(dir.file('kpi.db')),
    cleanup: async () => dir.remove(),
  };
});
