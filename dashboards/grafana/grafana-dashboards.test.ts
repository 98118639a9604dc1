import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CityCalendar } from '../../core/city-calendar.ts';
import { ManualClock } from '../../core/clock.ts';
import { exactRegex } from '../../core/influx-schema.ts';
import { silentLogger } from '../../core/logger.ts';
import type { SeriesPoint, SeriesStore } from '../../core/ports/series-store.ts';
import { isSoundLevelUnit } from '../../core/sound-level.ts';
import { KindCatalogue } from '../../devices/kind-catalogue.ts';
import { deviceKinds } from '../../devices/kinds.ts';
import { buildInfluxSeriesStore } from '../../ingest/store/influx/influx-series-store.ts';
import { withSoundEnergy } from '../../ingest/store/sound-energy-store.ts';
import { planCity } from '../../simulators/city-plan.ts';
import { deviceSeed, ValueGenerator } from '../../simulators/models/index.ts';
import { makeTempDir, type TempDir } from '../../test/helpers/temp-dir.ts';
import { type InfluxTestServer, influxdBinary, startInfluxd } from '../../test/servers/influxdb.ts';
import { DASHBOARDS, OUTPUT_DIR, renderDashboards } from './build-dashboards.ts';
import { DATASOURCE } from './grafana-model.ts';

interface Target {
  query: string;
  datasource: { uid: string };
}
interface Panel {
  title: string;
  datasource: { uid: string };
  targets: Target[];
}
interface Dashboard {
  uid: string;
  timezone: string;
  templating: { list: Array<{ name: string; type: string; query: string }> };
  panels: Panel[];
}

describe('Grafana dashboards: generated, provisioned', () => {
  it('the committed JSON equals what the typed specs generate (npm run grafana:build)', () => {
    const generated = renderDashboards();
    expect(readdirSync(OUTPUT_DIR).sort()).toEqual([...generated.keys()].sort());
    for (const [name, text] of generated)
      expect(readFileSync(join(OUTPUT_DIR, name), 'utf8'), name).toBe(text);
  });

  it('covers the city overview, every domain, devices and ingest health, with unique UIDs', () => {
    expect(Object.keys(DASHBOARDS).sort()).toEqual(
      [
        'air-quality',
        'city-overview',
        'connectivity',
        'devices',
        'electricity',
        'emergency',
        'heat-and-buildings',
        'ingest-health',
        'noise',
        'traffic',
        'waste',
        'water',
      ].sort(),
    );
    const uids = Object.values(DASHBOARDS).map((d) => d.uid);
    expect(new Set(uids).size).toBe(uids.length);
  });

  it('never averages decibels arithmetically: every mean of a sound level reads its energy companion', () => {
    const kinds = new KindCatalogue();
    const soundLevels = [
      ...new Set(
        deviceKinds.flatMap((k) =>
          k.metrics
            .filter((m) => isSoundLevelUnit(kinds.metric(k.id, m.name)?.unit ?? ''))
            .map((m) => m.name),
        ),
      ),
    ];
    expect(soundLevels).toContain('laeq');
    let energetic = 0;
    for (const text of renderDashboards().values())
      for (const p of (JSON.parse(text) as Dashboard).panels)
        for (const t of p.targets)
          for (const m of soundLevels) {
            // mean(), sum() or a mean of a subquery over the level itself would be biased low
            expect(t.query, p.title).not.toMatch(new RegExp(`(mean|sum)\\("value"\\)[^,]* FROM "${m}"`));
            if (t.query.includes(`10 * log10(mean("value")) FROM "${m}.energy"`)) energetic += 1;
          }
    // the noise dashboard and the city overview: LAeq over time, by monitor, daily and overall
    expect(energetic).toBeGreaterThanOrEqual(5);
  });

  it('points every panel and variable at the provisioned datasource UID, and uses the city zone', () => {
    const yaml = readFileSync(
      join(OUTPUT_DIR, '..', 'provisioning', 'datasources', 'citymetrics.yaml'),
      'utf8',
    );
    expect(yaml).toContain(`uid: ${DATASOURCE.uid}`);
    for (const text of renderDashboards('Asia/Kolkata').values()) {
      const d = JSON.parse(text) as Dashboard;
      expect(d.timezone).toBe('Asia/Kolkata');
      expect(d.templating.list.find((v) => v.name === 'tz')?.query).toBe('Asia/Kolkata');
      for (const p of d.panels) {
        expect(p.datasource.uid).toBe(DATASOURCE.uid);
        for (const t of p.targets) expect(t.datasource.uid).toBe(DATASOURCE.uid);
      }
    }
  });
});

// ---- every panel query against a real InfluxDB loaded with simulated data ----

const binary = influxdBinary();
const ZONE = 'Europe/Paris';
const END = Date.UTC(2026, 4, 20, 0, 0, 0);
const START = END - 2 * 86_400_000;
const DISTRICTS = ['Old Town', 'harbour'];
let server: InfluxTestServer;
let store: SeriesStore;
let dir: TempDir;

/** Simulated city: every kind in both districts, two days of readings from the simulators' value models. */
async function loadSimulatedCity(): Promise<number> {
  const planned = planCity({ devices: deviceKinds.length * 2, districts: DISTRICTS, seed: 7 });
  // One device of each kind in each district, so every panel has data for any one district too.
  const plan = deviceKinds.flatMap((k) =>
    DISTRICTS.map((district) => {
      const d =
        planned.find((p) => p.kind === k.id && p.district === district) ??
        planned.find((p) => p.kind === k.id)!;
      return { ...d, district };
    }),
  );
  const generator = new ValueGenerator(ZONE);
  let written = 0;
  for (const [i, d] of plan.entries()) {
    const id = `${d.kind}-${i}`;
    const kind = deviceKinds.find((k) => k.id === d.kind)!;
    const step = Math.max(kind.intervalSec ?? 60, 900) * 1000; // at most every 15 min: enough for every panel
    const points: SeriesPoint[] = [];
    for (let ts = START; ts < END; ts += step) {
      const values = generator.generate({
        kind: d.kind,
        seed: deviceSeed(7, id),
        ts,
        intervalSec: step / 1000,
        attributes: d.attributes,
      });
      for (const [metric, value] of Object.entries(values))
        points.push({ deviceId: id, kind: d.kind, district: d.district, metric, ts, value });
    }
    written += (await store.write(points)).inserted;
  }
  return written;
}

/** What Grafana sends: variables replaced (multi-value → regex alternation), $timeFilter and $__interval. */
function expand(q: string, vars: Record<string, string[]>): string {
  let out = q
    .replaceAll('$timeFilter', `time >= ${START}ms and time <= ${END}ms`)
    .replaceAll('$__interval', '1h')
    .replaceAll('$tz', ZONE);
  for (const [name, values] of Object.entries(vars)) {
    const alternation =
      values.length === 1
        ? exactRegex(values[0]!).slice(2, -2)
        : `(${values.map((v) => exactRegex(v).slice(2, -2)).join('|')})`;
    out = out.replaceAll(`$${name}`, alternation);
  }
  return out;
}

const rowsOf = (results: Awaited<ReturnType<InfluxTestServer['query']>>) =>
  results.flatMap((r) => r.series ?? []).reduce((n, s) => n + s.values.length, 0);

describe.skipIf(binary === null)('Grafana panel queries on a real InfluxDB 1.x with simulated data', () => {
  beforeAll(async () => {
    server = await startInfluxd(binary!);
    dir = makeTempDir('citymetrics-grafana-');
    // Through the wrapper every composition root uses: sound levels get their energy companions, which the
    // noise panels read.
    const kinds = new KindCatalogue();
    const influx = await buildInfluxSeriesStore(
      { logger: silentLogger(), clock: new ManualClock(END), calendar: new CityCalendar(ZONE) },
      {
        url: server.url,
        writeTransport: 'v1',
        database: 'citymetrics',
        createDatabase: true,
        indexFile: dir.file('idx.db'),
      },
    );
    store = withSoundEnergy(influx, (kind, metric) =>
      isSoundLevelUnit(kinds.metric(kind, metric)?.unit ?? ''),
    );
    expect(await loadSimulatedCity()).toBeGreaterThan(5_000);
  }, 120_000);
  afterAll(async () => {
    await store?.close();
    dir?.remove();
    await server?.destroy();
  });

  for (const [name, text] of renderDashboards(ZONE)) {
    const d = JSON.parse(text) as Dashboard;
    it(`${name}: variables resolve and every panel query returns rows, for all and for one district`, async () => {
      const run = (q: string) => server.query(q, 'citymetrics');
      const variable = (v: string) => d.templating.list.find((x) => x.name === v);
      // SHOW TAG VALUES answers per measurement; Grafana keeps each value once.
      const tagValues = async (q: string) =>
        [
          ...new Set(
            (await run(q))
              .flatMap((r) => r.series ?? [])
              .flatMap((s) => s.values.map((row) => String(row[1]))),
          ),
        ].sort();
      expect(await tagValues(variable('district')!.query)).toEqual([...DISTRICTS].sort());
      for (const districts of [DISTRICTS, [DISTRICTS[0]!]]) {
        const vars: Record<string, string[]> = { district: districts };
        const deviceVar = variable('device');
        if (deviceVar !== undefined) {
          const found = await tagValues(expand(deviceVar.query, vars));
          expect(found.length, `${name}: device variable for ${districts.join(',')}`).toBeGreaterThan(0);
          vars.device = found;
        }
        for (const p of d.panels)
          for (const t of p.targets) {
            const q = expand(t.query, vars);
            expect(q, `${name} / ${p.title}: variables left`).not.toMatch(/\$(?!tag_)\w/);
            expect(rowsOf(await run(q)), `${name} / ${p.title}: ${q}`).toBeGreaterThan(0);
          }
      }
    });
  }
});
