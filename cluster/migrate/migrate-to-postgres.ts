import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { AlertRecords } from '../../alerts/alert-records.ts';
import { PostgresAlertRecords } from '../../alerts/postgres-alert-records.ts';
import { ALERTS_FILE_NAME, SqliteAlertRecords } from '../../alerts/sqlite-alert-records.ts';
import { CityCalendar } from '../../core/city-calendar.ts';
import { systemClock } from '../../core/clock.ts';
import type { Config } from '../../core/config.ts';
import { CityError } from '../../core/errors.ts';
import { lockDataDir } from '../../core/instance-lock.ts';
import type { Logger } from '../../core/logger.ts';
import { pgDatabaseOf } from '../../core/pg-component-schema.ts';
import type { ApiKeyPersistence } from '../../core/ports/api-key-persistence.ts';
import type { RegistryPersistence } from '../../core/ports/registry-persistence.ts';
import type { SeriesPoint, SeriesStore } from '../../core/ports/series-store.ts';
import { createTelemetry } from '../../core/telemetry.ts';
import { PostgresApiKeyStore } from '../../dashboards/http/postgres-api-key-store.ts';
import { ROLES } from '../../dashboards/http/roles.ts';
import { ACCESS_FILE_NAME, SqliteApiKeyStore } from '../../dashboards/http/sqlite-api-key-store.ts';
import { PostgresRegistryStore } from '../../devices/postgres-registry-store.ts';
import { REGISTRY_FILE_NAME } from '../../devices/registry.ts';
import { RegistryStore } from '../../devices/registry-store.ts';
import { openSeriesStore } from '../../ingest/store/open-series-store.ts';
import type { KpiRecordsBackend, KpiRecordsSnapshot } from '../../metrics/kpi-records.ts';
import { KPI_FILE_NAME } from '../../metrics/kpi-store-schema.ts';
import { PostgresKpiRecords } from '../../metrics/postgres-kpi-records.ts';
import { SqliteKpiRecords } from '../../metrics/sqlite-kpi-records.ts';

const SERIES_FILE_NAME = 'series.db';

/** What one side holds, counted the same way on both. */
export interface MigrationCounts {
  devices: number;
  deviceLifeChanges: number;
  apiKeys: number;
  tileLayouts: number;
  manualValues: number;
  profileEntries: number;
  targets: number;
  rollupVersions: number;
  restatements: number;
  alertRules: number;
  /** alerts in every state, with who acknowledged and cleared them */
  alerts: number;
  /** raw device readings (one value of one metric at one time) */
  readings: number;
}

export interface MigrationProgress {
  stage(name: string, total: number): void;
  advance(done: number): void;
  done(): void;
}

export interface MigrationOptions {
  dataDir: string;
  postgresUrl: string;
  /** The configuration the series store is opened with (retention, zone); its STORE is set to postgres. */
  config: Config;
  logger: Logger;
  progress?: MigrationProgress;
  /** Readings per write to PostgreSQL. Default 5 000. */
  batch?: number;
}

export interface MigrationResult {
  source: MigrationCounts;
  target: MigrationCounts;
}

const quiet: MigrationProgress = { stage() {}, advance() {}, done() {} };

function kpiCounts(s: KpiRecordsSnapshot) {
  return {
    manualValues: s.manual.length,
    profileEntries: s.profile.length,
    targets: s.targets.length,
    rollupVersions: s.rollups.length,
    restatements: s.restatements.length,
  };
}

async function alertCounts(a: AlertRecords | null) {
  if (a === null) return { alertRules: 0, alerts: 0 };
  return { alertRules: (await a.rules()).length, alerts: (await a.listAlerts({ limit: 1 })).total };
}

async function registryCounts(r: RegistryPersistence) {
  const devices = await r.load();
  let deviceLifeChanges = 0;
  for (const d of devices) deviceLifeChanges += (await r.lifeHistory(d.record.id)).length;
  return { devices: devices.length, deviceLifeChanges };
}

async function keyCounts(k: ApiKeyPersistence) {
  let tileLayouts = 0;
  for (const role of ROLES) if ((await k.getTileLayout(role)) !== undefined) tileLayouts++;
  return { apiKeys: (await k.list()).length, tileLayouts };
}

/** Device readings in the PostgreSQL series store (its raw points of device series). */
async function pgReadings(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>(
      "SELECT count(*) AS n FROM points p JOIN series s ON s.id = p.series_id WHERE s.scope = 'device'",
    );
    return Number(rows[0]?.n ?? 0);
  } finally {
    await client.end();
  }
}

const empty = (c: MigrationCounts): boolean => Object.values(c).every((n) => n === 0);

/**
 * Moves a single-process city (the SQLite files of DATA_DIR) into the PostgreSQL of a cluster: devices with
 * their credential hashes and interval history, API keys (hashes, revocations) and tile layouts, KPI
 * records (manual history, profile, targets, every closed version with its restatements) and every raw
 * device reading, from which the PostgreSQL store builds its own roll-ups. The data directory is locked
 * throughout (no platform may write it meanwhile) and left as it was; a target holding anything is refused,
 * so nothing is merged into another city. Ends by counting both sides: any difference is an error.
 */
export async function migrateToPostgres(opts: MigrationOptions): Promise<MigrationResult> {
  const progress = opts.progress ?? quiet;
  const { dataDir, postgresUrl: url, logger } = opts;
  const file = (name: string) => join(dataDir, name);
  if (!existsSync(file(REGISTRY_FILE_NAME)))
    throw new CityError(
      'CONFIG_INVALID',
      `${dataDir} holds no ${REGISTRY_FILE_NAME}: not a citymetrics data directory`,
      {
        field: '--data-dir',
      },
    );
  const lock = lockDataDir(dataDir);
  const closers: Array<() => Promise<unknown> | unknown> = [];
  const track = <T>(part: T, close: (p: T) => Promise<unknown> | unknown): T => {
    closers.unshift(() => close(part));
    return part;
  };
  try {
    // ---- the source, read only
    const registry = track(RegistryStore.open(file(REGISTRY_FILE_NAME)), (r) => r.close());
    const keys = existsSync(file(ACCESS_FILE_NAME))
      ? track(SqliteApiKeyStore.open(dataDir), (k) => k.close())
      : null;
    const kpiRecords: KpiRecordsBackend | null = existsSync(file(KPI_FILE_NAME))
      ? track(SqliteKpiRecords.open(file(KPI_FILE_NAME)), (k) => k.close())
      : null;
    const alertRecords = existsSync(file(ALERTS_FILE_NAME))
      ? track(SqliteAlertRecords.open({ dataDir }), (a) => a.close())
      : null;
    const series = existsSync(file(SERIES_FILE_NAME))
      ? track(new Database(file(SERIES_FILE_NAME), { readonly: true, fileMustExist: true }), (d) => d.close())
      : null;
    const kpiSnapshot = kpiRecords === null ? null : await kpiRecords.load();
    const source: MigrationCounts = {
      ...(await registryCounts(registry)),
      ...(keys === null ? { apiKeys: 0, tileLayouts: 0 } : await keyCounts(keys)),
      ...(kpiSnapshot === null
        ? { manualValues: 0, profileEntries: 0, targets: 0, rollupVersions: 0, restatements: 0 }
        : kpiCounts(kpiSnapshot)),
      ...(await alertCounts(alertRecords)),
      readings:
        series === null
          ? 0
          : (
              series
                .prepare(
                  "SELECT count(*) AS n FROM points p JOIN series s ON s.id = p.series_id WHERE s.scope = 'device'",
                )
                .get() as { n: number }
            ).n,
    };

    // ---- the target, which must be empty
    const where = `PostgreSQL database ${pgDatabaseOf(url)}`;
    const pgRegistry = track(await PostgresRegistryStore.open({ url, logger }), (r) => r.close());
    const pgKeys = track(await PostgresApiKeyStore.open({ url, logger }), (k) => k.close());
    const pgKpi = track(await PostgresKpiRecords.open({ url, logger }), (k) => k.close());
    const pgAlerts = track(await PostgresAlertRecords.open({ url, logger }), (a) => a.close());
    const config: Config = { ...opts.config, store: 'postgres', postgresUrl: url };
    const store: SeriesStore = track(
      await openSeriesStore({
        config,
        calendar: new CityCalendar(config.cityTimezone),
        clock: systemClock,
        logger,
        telemetry: createTelemetry(),
      }),
      (s) => s.close(),
    );
    const count = async (): Promise<MigrationCounts> => ({
      ...(await registryCounts(pgRegistry)),
      ...(await keyCounts(pgKeys)),
      ...kpiCounts(await pgKpi.load()),
      ...(await alertCounts(pgAlerts)),
      readings: await pgReadings(url),
    });
    const before = await count();
    if (!empty(before))
      throw new CityError(
        'CONFIG_INVALID',
        `${where} is not empty (${Object.entries(before)
          .filter(([, n]) => n > 0)
          .map(([k, n]) => `${n} ${k}`)
          .join(', ')}): migrate into a new, empty database`,
        { field: '--postgres-url' },
      );

    // ---- devices, with their credential hashes and interval history
    const devices = await registry.load();
    progress.stage('devices', devices.length);
    let done = 0;
    for (const d of devices) {
      await pgRegistry.insert(d.record, d.credentialHash);
      for (const change of await registry.lifeHistory(d.record.id)) await pgRegistry.setLife(change);
      progress.advance(++done);
    }
    const seen = devices.flatMap((d) =>
      d.record.lastSeenAt === null ? [] : [[d.record.id, d.record.lastSeenAt] as const],
    );
    if (seen.length > 0) await pgRegistry.writeLastSeen(seen);

    // ---- API keys (hashes only ever) and tile layouts
    if (keys !== null) {
      const rows = await keys.list();
      progress.stage('API keys', rows.length);
      done = 0;
      for (const { revokedAt, ...row } of rows) {
        await pgKeys.insert(row);
        if (revokedAt !== null) await pgKeys.revoke(row.id, revokedAt);
        progress.advance(++done);
      }
      for (const role of ROLES) {
        const layout = await keys.getTileLayout(role);
        if (layout !== undefined) await pgKeys.putTileLayout(layout);
      }
    }

    // ---- KPI records: in id order, so each manual entry supersedes what it superseded before
    if (kpiSnapshot !== null) {
      const s = kpiSnapshot;
      progress.stage('KPI records', s.manual.length + s.profile.length + s.targets.length + s.rollups.length);
      if (s.manual.length > 0)
        await pgKpi.addManualValues(s.manual.map(({ id: _id, supersededBy: _by, ...m }) => m));
      if (s.profile.length > 0) await pgKpi.addProfile(s.profile);
      if (s.targets.length > 0) await pgKpi.setTargets(s.targets);
      done = s.manual.length + s.profile.length + s.targets.length;
      progress.advance(done);
      for (const r of s.rollups) {
        const restated = s.restatements.filter((x) => x.period === r.period && x.version === r.version);
        await pgKpi.saveRollup(r, restated);
        progress.advance(++done);
      }
    }

    // ---- alert rules and alerts, each in the state it is in: the kpi leader continues the active ones
    if (alertRecords !== null) {
      const rules = await alertRecords.rules();
      const total = (await alertRecords.listAlerts({ limit: 1 })).total;
      progress.stage('alerts', rules.length + total);
      for (const r of rules) await pgAlerts.insertRule(r);
      done = rules.length;
      progress.advance(done);
      for (let offset = 0; offset < total; offset += 1_000) {
        const page = await alertRecords.listAlerts({ limit: 1_000, offset });
        for (const a of page.items) await pgAlerts.insertAlert(a);
        done += page.items.length;
        progress.advance(done);
      }
    }

    // ---- raw readings, series by series in time order; the PostgreSQL store rolls them up itself
    if (series !== null) {
      progress.stage('readings', source.readings);
      const batchSize = opts.batch ?? 5_000;
      const rows = series
        .prepare(
          `SELECT s.key AS deviceId, s.kind AS kind, s.district AS district, s.metric AS metric, p.ts AS ts,
             p.value AS value
           FROM points p JOIN series s ON s.id = p.series_id WHERE s.scope = 'device'
           ORDER BY p.series_id, p.ts`,
        )
        .iterate() as IterableIterator<SeriesPoint>;
      let batch: SeriesPoint[] = [];
      done = 0;
      for (const row of rows) {
        batch.push({ ...row, kind: row.kind ?? '', district: row.district ?? '' });
        if (batch.length >= batchSize) {
          await store.write(batch);
          done += batch.length;
          progress.advance(done);
          batch = [];
        }
      }
      if (batch.length > 0) await store.write(batch);
      progress.advance(source.readings);
    }
    progress.done();

    const target = await count();
    const differs = (Object.keys(source) as Array<keyof MigrationCounts>).filter(
      (k) => source[k] !== target[k],
    );
    if (differs.length > 0)
      throw new CityError(
        'STORE_CORRUPT',
        `count check failed: ${differs.map((k) => `${k} ${source[k]} in ${dataDir}, ${target[k]} in ${where}`).join('; ')}`,
      );
    logger.info({ source, target }, 'migrated to PostgreSQL');
    return { source, target };
  } finally {
    progress.done();
    for (const close of closers) await Promise.resolve(close()).catch(() => undefined);
    lock.close();
  }
}
