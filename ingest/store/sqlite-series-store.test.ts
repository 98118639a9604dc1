import { CityCalendar } from '../../core/city-calendar.ts';
import { silentLogger } from '../../core/logger.ts';
import { seriesStoreContract } from '../../test/contracts/series-store.contract.ts';
import { makeTempDir } from '../../test/helpers/temp-dir.ts';
import { SqliteSeriesStore } from './sqlite-series-store.ts';

const RETENTION = { rawDays: 35, minuteDays: 14, hourDays: 400, dayDays: 3_660 };

seriesStoreContract('sqlite', async (zone) => {
  const dir = makeTempDir('series-store-');
  const store = SqliteSeriesStore.open({
    file: dir.file('series.db'),
    calendar: new CityCalendar(zone),
    retention: RETENTION,
    logger: silentLogger(),
  });
  return { store, cleanup: async () => dir.remove() };
});
