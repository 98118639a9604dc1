import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { ManualClock } from '../core/clock.ts';
import { silentLogger } from '../core/logger.ts';
import { PlatformEvents } from '../core/platform-events.ts';
import { KindCatalogue } from '../devices/kind-catalogue.ts';
import { DeviceRegistry } from '../devices/registry.ts';
import { alertRecordsContract } from '../test/contracts/alert-records.contract.ts';
import { makeTempDir } from '../test/helpers/temp-dir.ts';
import { type PostgresTestServer, postgresBinDir, startPostgres } from '../test/servers/postgres.ts';
import { AlertEngine } from './alert-engine.ts';
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

  it('a rule PostgreSQL refuses is an error to the caller and takes no effect, never a 201 a crash forgets', async () => {
    const url = await server.createDatabase();
    onTestFinished(() => server.dropDatabase(url));
    const dir = makeTempDir('cm-alert-refused-');
    onTestFinished(() => dir.remove());
    const clock = new ManualClock(Date.parse('2026-03-15T12:00:00Z'));
    const logger = silentLogger();
    const kinds = new KindCatalogue();
    const registry = DeviceRegistry.open({ dataDir: dir.path, kinds, clock, logger, scryptCost: 1024 });
    onTestFinished(() => registry.close());
    const deps = {
      cityName: 'Test City',
      events: new PlatformEvents(),
      registry,
      kinds,
      ingest: { stats: () => ({}) },
      clock,
      logger,
    };
    const engine = await AlertEngine.openOn(deps, await PostgresAlertRecords.open({ url, logger }), {
      checkIntervalMs: 0,
    });
    onTestFinished(() => engine.close());
    const input = {
      name: 'Air',
      condition: { kind: 'kpi-threshold', code: 'EN: EN: AQ: 1C', op: '>', value: 10 },
    };
    const kept = await engine.createRule(input as Parameters<AlertEngine['createRule']>[0], 'ops');
    // The table goes away under the engine (a restore, an operator's mistake): its writes fail for real.
    await server.query('ALTER TABLE alert_rules RENAME TO alert_rules_away', url);
    await expect(
      engine.createRule(input as Parameters<AlertEngine['createRule']>[0], 'ops'),
    ).rejects.toThrow();
    await expect(engine.deleteRule(kept.id, 'ops')).rejects.toThrow();
    expect(engine.rules().map((r) => r.id)).toEqual([kept.id]);
    await server.query('ALTER TABLE alert_rules_away RENAME TO alert_rules', url);
    expect((await engine.createRule(input as Parameters<AlertEngine['createRule']>[0], 'ops')).name).toBe(
      'Air',
    );
    expect(engine.rules()).toHaveLength(2);
  });
});
