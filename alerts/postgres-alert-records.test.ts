import { afterAll, beforeAll, describe } from 'vitest';
import { silentLogger } from '../core/logger.ts';
import { alertRecordsContract } from '../test/contracts/alert-records.contract.ts';
import { type PostgresTestServer, postgresBinDir, startPostgres } from '../test/servers/postgres.ts';
import { PostgresAlertRecords } from './postgres-alert-records.ts';

const binDir = postgresBinDir();
let server: PostgresTestServer;

beforeAll(async () => {
  if (binDir !== null) server = await startPostgres(binDir);
}, 30_000);
afterAll(async () => {
  await server?.destroy();
});

describe.skipIf(binDir === null)('alert records on PostgreSQL', () => {
  alertRecordsContract('PostgreSQL', async () => {
    const url = await server.createDatabase();
    return {
      open: () => PostgresAlertRecords.open({ url, logger: silentLogger() }),
      cleanup: () => server.dropDatabase(url),
    };
  });
});
