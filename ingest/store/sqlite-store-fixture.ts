import { CityCalendar } from '../../core/city-calendar.ts';
import { silentLogger } from '../../core/logger.ts';
import type { SqliteSeriesStoreOptions } from './sqlite-series-store.ts';

/** The default retention tiers, as the configuration's defaults set them. */
export const TEST_RETENTION = { rawDays: 35, minuteDays: 14, hourDays: 400, dayDays: 3_660 };

/** Options of an embedded series store for tests: Paris calendar, default retention, silent. */
export function sqliteStoreOptions(
  file: string,
  extra: Partial<SqliteSeriesStoreOptions> = {},
): SqliteSeriesStoreOptions {
  return {
    file,
    calendar: new CityCalendar('Europe/Paris'),
    retention: TEST_RETENTION,
    logger: silentLogger(),
    ...extra,
  };
}
