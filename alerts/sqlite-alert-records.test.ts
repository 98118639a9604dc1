import { alertRecordsContract } from '../test/contracts/alert-records.contract.ts';
import { makeTempDir } from '../test/helpers/temp-dir.ts';
import { SqliteAlertRecords } from './sqlite-alert-records.ts';

alertRecordsContract('SQLite (alerts.db)', async () => {
  const dir = makeTempDir('cm-alert-records-');
  return {
    open: async () => SqliteAlertRecords.open({ dataDir: dir.path }),
    cleanup: async () => dir.remove(),
  };
});
