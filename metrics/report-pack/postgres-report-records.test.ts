import { afterAll, beforeAll, describe } from 'vitest';
import { silentLogger } from '../../core/logger.ts';
import { reportRecordsContract } from '../../test/contracts/report-records.contract.ts';
import { type PostgresTestServer, postgresBinDir, startPostgres } from '../../test/servers/postgres.ts';
import { PostgresReportRecords } from './postgres-report-records.ts';

const binDir = postgresBinDir();
let server: PostgresTestServer;

beforeAll(async () => {
  if (binDir !== null) server = await startPostgres(binDir);
}, 30_000);
afterAll(async () => {
  await server?.destroy();
});

describe.skipIf(binDir === null)('report records on PostgreSQL', () => {
  reportRecordsContract('PostgreSQL', async () => {
    const url = await server.createDatabase();
    return {
      open: (now) => PostgresReportRecords.open({ url, logger: silentLogger(), now }),
      cleanup: () => server.dropDatabase(url),
    };
  });
});
