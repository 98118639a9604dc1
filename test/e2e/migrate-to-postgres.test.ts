import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresAlertRecords } from '../../alerts/postgres-alert-records.ts';
import { CityCalendar } from '../../core/city-calendar.ts';
import { systemClock } from '../../core/clock.ts';
import { testConfig } from '../../core/config.ts';
import { silentLogger } from '../../core/logger.ts';
import { createTelemetry } from '../../core/telemetry.ts';
import { topicFor } from '../../core/topics.ts';
import { KindCatalogue } from '../../devices/kind-catalogue.ts';
import { PostgresRegistryStore } from '../../devices/postgres-registry-store.ts';
import { DeviceRegistry } from '../../devices/registry.ts';
import { openSeriesStore } from '../../ingest/store/open-series-store.ts';
import { KpiStore } from '../../metrics/kpi-store.ts';
import { PostgresKpiRecords } from '../../metrics/postgres-kpi-records.ts';
import { startTestPlatform } from '../helpers/platform-harness.ts';
import { ROOT } from '../reliability/platform-process.ts';
import { type PostgresTestServer, postgresBinDir, startPostgres } from '../servers/postgres.ts';

/**
 * `citymetrics migrate --to postgres` as an operator runs it: a single-process city with devices, readings,
 * a manual value, a closed month and keys, stopped; the command as its own process; then PostgreSQL read
 * through the cluster's own stores, and a second run refused.
 */

const binDir = postgresBinDir();
let pg: PostgresTestServer;
let dir: string;
const MINUTE = 60_000;
const READINGS = 40;
const code = 'EC: ICT: ICT: 1C';

function cli(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'cli.ts'), ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'warn', ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString('utf8');
  });
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString('utf8');
  });
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (exit) => resolve({ code: exit, stdout, stderr }));
  });
}

let devices: Array<{ id: string; password: string }> = [];
let closedMonth = '';
let sqliteRollup: unknown;
let acknowledgedAlert = '';

describe.skipIf(binDir === null)('citymetrics migrate --to postgres', () => {
  beforeAll(async () => {
    pg = await startPostgres(binDir!);
    dir = mkdtempSync(join(tmpdir(), 'cm-migrate-'));
    const t = await startTestPlatform({}, systemClock, dir);
    try {
      devices = [
        await t.provision('air-quality-station', 'North'),
        await t.provision('air-quality-station', 'South'),
      ];
      // A rule that opens an alert per device from the readings below; one is acknowledged.
      const rule = await t.api('POST', '/api/alert-rules', {
        name: 'PM2.5 high',
        severity: 'warning',
        condition: {
          kind: 'series-threshold',
          scope: 'device',
          metric: 'pm25',
          op: '>',
          value: 45,
          forMinutes: 0,
        },
      });
      expect(rule.status).toBe(201);
      const start = Date.now() - 2 * 86_400_000;
      for (const [i, d] of devices.entries()) {
        const client = await t.connect(d.id, d.password);
        for (let n = 0; n < READINGS; n++)
          await client.publishAsync(
            topicFor(d.id, 'telemetry'),
            JSON.stringify({ ts: start + n * MINUTE + i, values: { pm25: 10 + n, no2: 20 } }),
            { qos: 1 },
          );
      }
      const open = (await t.api('GET', '/api/alerts?state=open')).body as { items: Array<{ id: string }> };
      expect(open.items).toHaveLength(devices.length);
      expect((await t.api('POST', `/api/alerts/${open.items[0]!.id}/acknowledge`)).status).toBe(200);
      acknowledgedAlert = open.items[0]!.id;
      const entered = await t.api('POST', `/api/kpis/${encodeURIComponent(code)}/values`, {
        period: String(new Date().getUTCFullYear() - 1),
        value: 91.5,
        unit: '%',
        dataQuality: 'extrapolated-survey',
        source: 'national statistics office',
      });
      expect(entered.status).toBe(201);
      closedMonth = `${new Date().getUTCFullYear() - 1}-06`;
      expect((await t.api('POST', `/api/rollups/${closedMonth}/close`)).status).toBe(201);
      sqliteRollup = t.platform.kpis.kpiStore.latestRollup(closedMonth);
      const revoked = await t.platform.apiKeys.create({ role: 'viewer', name: 'old display' });
      expect((await t.api('DELETE', `/api/keys/${revoked.key.id}`)).status).toBe(204);
    } finally {
      // a graceful stop writes everything acknowledged into series.db
      await t.close();
    }
  }, 120_000);

  afterAll(async () => {
    await pg?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('copies devices, keys, KPI history and readings, says what it counted, and the cluster reads them', async () => {
    const url = await pg.createDatabase();
    const run = await cli(
      ['migrate', '--to', 'postgres', '--postgres-url', url, '--data-dir', dir, '--progress'],
      {},
    );
    expect(run.stderr).toMatch(/readings +\|/);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/every count equal/);
    expect(run.stdout).toMatch(new RegExp(`\\s${devices.length}  devices`));
    expect(run.stdout).toMatch(new RegExp(`\\s${devices.length * READINGS * 2}  device readings`));
    expect(run.stdout).toMatch(/\s1 {2}closed period versions/);

    // devices sign in with the passwords they had
    const registry = await DeviceRegistry.openOn(
      await PostgresRegistryStore.open({ url, logger: silentLogger() }),
      {
        kinds: new KindCatalogue(),
        clock: systemClock,
        logger: silentLogger(),
      },
    );
    try {
      for (const d of devices) expect(await registry.verifyCredentials(d.id, d.password), d.id).toBe('ok');
      expect(await registry.verifyCredentials(devices[0]!.id, 'not-it')).toBe('bad-password');
    } finally {
      await registry.close();
    }

    // the KPI history is the one the single process had, byte for byte
    const kpis = await KpiStore.openOn(
      await PostgresKpiRecords.open({ url, logger: silentLogger() }),
      silentLogger(),
    );
    try {
      expect(kpis.latestRollup(closedMonth)).toEqual(sqliteRollup);
      expect(kpis.currentManualValues('kpi')).toEqual([
        expect.objectContaining({ subject: code, value: 91.5 }),
      ]);
    } finally {
      await kpis.close();
    }

    // the alerts as they were, for the kpi leader to continue
    const alerts = await PostgresAlertRecords.open({ url, logger: silentLogger() });
    try {
      expect((await alerts.rules()).map((r) => r.name)).toEqual(['PM2.5 high']);
      const listed = await alerts.listAlerts({});
      expect(listed.total).toBe(devices.length);
      expect(listed.items.find((a) => a.id === acknowledgedAlert)).toMatchObject({ state: 'acknowledged' });
      expect(run.stdout).toMatch(/\s1 {2}alert rules/);
    } finally {
      await alerts.close();
    }

    // every reading, rolled up again by the PostgreSQL store
    const config = { ...testConfig({ dataDir: dir }), store: 'postgres' as const, postgresUrl: url };
    const store = await openSeriesStore({
      config,
      calendar: new CityCalendar(config.cityTimezone),
      clock: systemClock,
      logger: silentLogger(),
      telemetry: createTelemetry(),
    });
    try {
      const from = Date.now() - 3 * 86_400_000;
      for (const d of devices) {
        for (const step of ['minute', 'hour', 'day'] as const) {
          const buckets = await store.query({
            scope: { device: d.id },
            metric: 'pm25',
            from,
            to: Date.now(),
            step,
          });
          expect(
            buckets.reduce((s, b) => s + b.count, 0),
            `${d.id} ${step}`,
          ).toBe(READINGS);
        }
      }
    } finally {
      await store.close();
    }

    // a second run would merge two cities: refused, naming what is there
    const again = await cli(['migrate', '--to', 'postgres', '--postgres-url', url, '--data-dir', dir], {});
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/CONFIG_INVALID.*is not empty \(2 devices/s);
  }, 180_000);

  it('refuses a directory that is not a data directory, and a running platform', async () => {
    const url = await pg.createDatabase();
    const none = await cli(
      ['migrate', '--to', 'postgres', '--postgres-url', url, '--data-dir', join(dir, 'nope')],
      {},
    );
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/CONFIG_INVALID.*holds no registry\.db/s);
    const t = await startTestPlatform({}, systemClock, dir);
    try {
      const busy = await cli(['migrate', '--to', 'postgres', '--postgres-url', url, '--data-dir', dir], {});
      expect(busy.code).toBe(1);
      expect(busy.stderr).toMatch(/in use|another citymetrics|locked/i);
    } finally {
      await t.close();
    }
  }, 120_000);
});
