import { describe, expect, it, onTestFinished } from 'vitest';
import { CityCalendar } from '../../core/city-calendar.ts';
import { packPoints } from '../../core/packed-points.ts';
import type { SeriesStore } from '../../core/ports/series-store.ts';
import { seriesStoreContract } from '../../test/contracts/series-store.contract.ts';
import { pt, utc } from '../../test/contracts/series-store-fixtures.ts';
import { makeTempDir } from '../../test/helpers/temp-dir.ts';
import { type SoundLevelMetric, withSoundEnergy } from './sound-energy-store.ts';
import { SqliteSeriesStore } from './sqlite-series-store.ts';
import { sqliteStoreOptions } from './sqlite-store-fixture.ts';
import { ThreadedSqliteSeriesStore } from './threaded-series-store.ts';

const isLaeq: SoundLevelMetric = (kind, metric) => kind === 'noise-monitor' && metric === 'laeq';

// The wrapper is a store like the others: for anything that is not a sound level it changes nothing.
seriesStoreContract('sqlite wrapped with sound-level energy', async (zone) => {
  const dir = makeTempDir('sound-energy-store-');
  const store = SqliteSeriesStore.open(
    sqliteStoreOptions(dir.file('series.db'), { calendar: new CityCalendar(zone) }),
  );
  return { store: withSoundEnergy(store, isLaeq), cleanup: async () => dir.remove() };
});

const T = utc('2026-01-12T10:00:00');
const noise = (ts: number, value: number) => pt('nm-1', 'laeq', ts, value, 'north', 'noise-monitor');

async function threaded(): Promise<SeriesStore> {
  const dir = makeTempDir('sound-energy-store-');
  const raw = await ThreadedSqliteSeriesStore.open(sqliteStoreOptions(dir.file('series.db')));
  onTestFinished(async () => {
    await raw.close();
    dir.remove();
  });
  return withSoundEnergy(raw, isLaeq);
}

describe('sound-level energy companion', () => {
  it('keeps 10^(L/10) beside each level, following duplicates and revisions; outcomes count readings', async () => {
    const store = await threaded();
    const batch = [noise(T, 50), noise(T + 60_000, 60), pt('aq-1', 'pm25', T, 12)];
    // Packed, as the materializer writes.
    expect(await store.writePacked!(packPoints(batch).packed)).toEqual({
      inserted: 3,
      duplicates: 0,
      revisions: [],
    });
    const energy = await store.aggregate({
      scope: { device: 'nm-1' },
      metric: 'laeq.energy',
      from: T,
      to: T + 3_600_000,
    });
    expect(energy).toMatchObject({ count: 2, sum: 1e5 + 1e6 });
    // Energetic mean of 50 and 60 dB, by hand: 10·log10((10^5 + 10^6) / 2) = 57.40.
    expect(10 * Math.log10(energy!.mean)).toBeCloseTo(57.404, 3);
    expect(
      await store.aggregate({ scope: { device: 'aq-1' }, metric: 'pm25.energy', from: T, to: T + 1 }),
    ).toBeNull();

    expect(await store.write(batch)).toEqual({ inserted: 0, duplicates: 3, revisions: [] });
    const revised = await store.write([noise(T + 60_000, 40)]);
    expect(revised).toEqual({
      inserted: 0,
      duplicates: 0,
      revisions: [{ deviceId: 'nm-1', metric: 'laeq', ts: T + 60_000, previous: 60, value: 40 }],
    });
    const after = await store.aggregate({
      scope: { device: 'nm-1' },
      metric: 'laeq.energy',
      from: T,
      to: T + 3_600_000,
    });
    expect(after).toMatchObject({ count: 2, sum: 1e5 + 1e4 });
    expect((await store.latest('nm-1')).map((v) => v.metric)).toEqual(['laeq']);
  });
});
