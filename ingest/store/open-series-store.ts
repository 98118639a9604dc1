import { join } from 'node:path';
import type { CityCalendar } from '../../core/city-calendar.ts';
import type { Clock } from '../../core/clock.ts';
import type { Config } from '../../core/config.ts';
import type { Logger } from '../../core/logger.ts';
import type { SeriesStore } from '../../core/ports/series-store.ts';
import { isSoundLevelUnit } from '../../core/sound-level.ts';
import type { Telemetry } from '../../core/telemetry.ts';
import { KindCatalogue } from '../../devices/kind-catalogue.ts';
import { influxOptionsFromConfig } from './influx/influx-config.ts';
import { buildInfluxSeriesStore } from './influx/influx-series-store.ts';
import { buildPostgresSeriesStore } from './postgres/postgres-series-store.ts';
import { withSoundEnergy } from './sound-energy-store.ts';
import { ThreadedSqliteSeriesStore } from './threaded-series-store.ts';

/**
 * The series store the configuration names (`STORE`): embedded SQLite by default, InfluxDB at scale,
 * PostgreSQL for several nodes sharing one store. Whichever it is, sound levels get their energy companion
 * series (core/sound-level.ts), so that every composition root (single process, cluster roles) writes them.
 */
export async function openSeriesStore(deps: {
  config: Config;
  calendar: CityCalendar;
  clock: Clock;
  logger: Logger;
  telemetry: Telemetry;
}): Promise<SeriesStore> {
  const kinds = new KindCatalogue();
  return withSoundEnergy(await openBackend(deps), (kind, metric) =>
    isSoundLevelUnit(kinds.metric(kind, metric)?.unit ?? ''),
  );
}

async function openBackend(deps: {
  config: Config;
  calendar: CityCalendar;
  clock: Clock;
  logger: Logger;
  telemetry: Telemetry;
}): Promise<SeriesStore> {
  const { config, calendar, clock, logger, telemetry } = deps;
  if (config.store === 'influxdb') {
    return buildInfluxSeriesStore(
      // Each failed write attempt (before the client's own retries) is counted on /metrics.
      { logger, clock, calendar, onWriteAttemptFailed: () => telemetry.storeWriteFailures.inc() },
      influxOptionsFromConfig(config, config.dataDir),
    );
  }
  const retention = {
    rawDays: config.retentionRawDays,
    minuteDays: config.retentionMinuteDays,
    hourDays: config.retentionHourDays,
    dayDays: config.retentionDayDays,
  };
  const onExpired = (count: number) => telemetry.pointsExpired.inc(count);
  if (config.store === 'postgres') {
    // loadConfig refuses STORE=postgres without POSTGRES_URL.
    const url = config.postgresUrl ?? '';
    return buildPostgresSeriesStore({ url, calendar, clock, retention, logger, onExpired });
  }
  // Writes on a worker thread: a SQLite transaction never holds up MQTT acknowledgements or the API.
  return ThreadedSqliteSeriesStore.open({
    file: join(config.dataDir, 'series.db'),
    calendar,
    clock,
    retention,
    logger,
    onExpired,
  });
}
