import { reportRecordsContract } from '../../test/contracts/report-records.contract.ts';
import { makeTempDir } from '../../test/helpers/temp-dir.ts';
import { SqliteReportRecords } from './sqlite-report-records.ts';

reportRecordsContract('SQLite (reports.db)', async () => {
  const dir = makeTempDir('cm-report-records-');
  return {
    open: async (now) => SqliteReportRecords.open({ dataDir: dir.path, now }),
    cleanup: async () => dir.remove(),
  };
});
