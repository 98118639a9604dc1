import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CityCalendar } from '../../core/city-calendar.ts';
import { ManualClock } from '../../core/clock.ts';
import { exactRegex } from '../../core/influx-schema.ts';
import { silentLogger } from '../../core/logger.ts';
import type { SeriesPoint, SeriesStore } from '../../core/ports/series-store.ts';
import { energyMetric, isSoundLevelUnit } from '../../core/sound-level.ts';
import { KindCatalogue } from '../../devices/kind-catalogue.ts';
import { deviceKinds } from '../../devices/kinds.ts';
import { buildInfluxSeriesStore } from '../../ingest/store/influx/influx-series-store.ts';
import { withSoundEnergy } from '../../ingest/store/sound-energy-store.ts';
import { makeTempDir, type TempDir } from '../../test/helpers/temp-dir.ts';
import { type InfluxTestServer, influxdBinary, startInfluxd } from '../../test/servers/influxdb.ts';
import { renderDashboards } from './build-dashboards.ts';
import type { DashboardJson, PanelJson } from './grafana-json.ts';

// ---- known data, written through the InfluxDB series store; every panel's answer computed here ----

const binary = influxdBinary();
const ZONE = 'Europe/Paris';
const MIN15 = 900_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
/** 02:00 in Paris: the dashboards' range ends mid-day, so partial days are in play */
const END = Date.UTC(2026, 4, 20, 0, 0, 0);
const START = END - 2 * DAY;
const DISTRICTS = ['Old Town', 'harbour'];
/** kinds whose per-day panels look back 30 whole days: they get 32 days of data */
const LONG_KINDS = new Set(['electricity-smart-meter', 'renewable-generation-meter', 'water-inflow-meter']);

interface Point extends SeriesPoint {}
const POINTS: Point[] = [];
for (const [k, kind] of deviceKinds.entries())
  for (const [d, district] of DISTRICTS.entries()) {
    const deviceId = `${kind.id}-${d}`;
    const from = LONG_KINDS.has(kind.id) ? END - 32 * DAY : START;
    for (let ts = from; ts < END; ts += MIN15)
      for (const [m, metric] of kind.metrics.entries()) {
        // distinct per device and metric, varying within each hour, the last quarter of an hour higher
        const q = (ts / MIN15) % 4;
        const value = 10 * (k + 1) + 3 * d + m + ((ts / HOUR) % 5) + (q === 3 ? 20 : 0);
        POINTS.push({ deviceId, kind: kind.id, district, metric: metric.name, ts, value });
      }
  }

/** The metrics devices report: what "values stored" and "devices reporting" count, never a derived series. */
const READING_METRICS = [...new Set(deviceKinds.flatMap((k) => k.metrics.map((m) => m.name)))];
const kindCatalogue = new KindCatalogue();
const SOUND_LEVEL_POINTS = POINTS.filter((p) =>
  isSoundLevelUnit(kindCatalogue.metric(p.kind, p.metric)?.unit ?? ''),
);

let server: InfluxTestServer;
let store: SeriesStore;
let dir: TempDir;

interface Range {
  from: number;
  to: number;
}

/** Grafana's panel time override (relative range, then shift with /d rounding in the dashboard zone). */
function panelRange(p: PanelJson): Range {
  if (p.timeFrom === undefined) return { from: START, to: END };
  const from = Number(/^(\d+)d$/.exec(p.timeFrom)![1]);
  const shift = Number(/^(\d+)d\/d$/.exec(p.timeShift ?? '0d/d')![1]);
  const now = DateTime.fromMillis(END, { zone: ZONE });
  return {
    from: now.minus({ days: from }).minus({ days: shift }).startOf('day').toMillis(),
    to: now.minus({ days: shift }).endOf('day').toMillis(),
  };
}

/** What Grafana sends: $timeFilter as an absolute range, $__interval, multi-value variables as regexes. */
function expand(q: string, range: Range, vars: Record<string, string[]>): string {
  let out = q
    .replaceAll('$timeFilter', `time >= ${range.from}ms and time <= ${range.to}ms`)
    .replaceAll('$__interval', '1h')
    .replaceAll('$tz', ZONE);
  for (const [name, values] of Object.entries(vars))
    out = out.replaceAll(`$${name}`, `(${values.map((v) => exactRegex(v).slice(2, -2)).join('|')})`);
  return out;
}

const hourOf = (ts: number) => DateTime.fromMillis(ts, { zone: ZONE }).startOf('hour').toMillis();
const dayOf = (ts: number) => DateTime.fromMillis(ts, { zone: ZONE }).startOf('day').toMillis();
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const AGG: Record<string, (xs: Point[]) => number> = {
  mean: (xs) => mean(xs.map((p) => p.value)),
  sum: (xs) => xs.reduce((a, p) => a + p.value, 0),
  max: (xs) => Math.max(...xs.map((p) => p.value)),
  min: (xs) => Math.min(...xs.map((p) => p.value)),
  count: (xs) => xs.length,
  last: (xs) => xs.reduce((a, p) => (p.ts > a.ts ? p : a)).value,
};
const TAG_OF: Record<string, (p: Point) => string> = {
  device: (p) => p.deviceId,
  district: (p) => p.district,
  kind: (p) => p.kind,
};

function groupBy<T>(xs: T[], key: (x: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const x of xs) out.set(key(x), [...(out.get(key(x)) ?? []), x]);
  return out;
}

/** The points a query's WHERE selects: range, chosen districts and devices, and a kind if named. */
function selected(q: string, range: Range, vars: Record<string, string[]>, metrics: string[]): Point[] {
  const kind = /"kind" = '([^']+)'/.exec(q)?.[1];
  return POINTS.filter(
    (p) =>
      metrics.includes(p.metric) &&
      p.ts >= range.from &&
      p.ts <= range.to &&
      vars.district!.includes(p.district) &&
      (!q.includes('"device" =~') || vars.device!.includes(p.deviceId)) &&
      (kind === undefined || p.kind === kind),
  );
}

/** The time of a row not grouped by time: InfluxDB reports the range start or a selector's point time. */
const ANY = '*';

/** Rows keyed `measurement|tag|time` → value, from InfluxDB's answer (time `*` unless grouped by time). */
function rowsOf(
  results: Awaited<ReturnType<InfluxTestServer['query']>>,
  byTime: boolean,
): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of results.flatMap((r) => r.series ?? []))
    for (const row of s.values)
      out.set(`${s.name}|${Object.values(s.tags ?? {}).join(',')}|${byTime ? row[0] : ANY}`, Number(row[1]));
  return out;
}

/**
 * The expected rows of a panel query, from the points alone. Plain queries are read by their shape
 * (aggregate, measurements, GROUP BY); the subquery and cross-measurement panels are computed by what
 * their title promises, with Grafana's transformations applied as configured.
 */
function expected(
  p: PanelJson,
  q: string,
  range: Range,
  vars: Record<string, string[]>,
): Map<string, number> {
  const out = new Map<string, number>();
  const plain =
    /^SELECT (\w+)\("(value|ts_ms)"\) FROM ((?:"[^"]+"(?:, )?)+) WHERE .*?(?: GROUP BY (.*?))?(?: fill\(none\))?(?: tz\('[^']+'\))?$/.exec(
      q,
    );
  if (p.title === 'NO2 highest hourly value per station') {
    const pts = selected(q, range, vars, ['no2']);
    for (const [device, xs] of groupBy(pts, (x) => x.deviceId)) {
      const hourly = [...groupBy(xs, (x) => String(hourOf(x.ts))).values()].map((h) => AGG.mean!(h));
      out.set(`no2|${device}|${ANY}`, Math.max(...hourly));
    }
    return out;
  }
  if (q.startsWith('SELECT mean("d") FROM (')) {
    const inner = /FROM \(SELECT (\w+)\("value"\) AS "d" FROM "([^"]+)"/.exec(q)!;
    const pts = selected(q, range, vars, [inner[2]!]);
    const byDay = [...groupBy(pts, (x) => String(dayOf(x.ts))).values()];
    // a mean per day means whole days: each day has all its quarter hours from every device
    const devices = new Set(pts.map((x) => x.deviceId)).size;
    if (byDay.some((d) => d.length !== 96 * devices)) throw new Error(`${p.title}: a partial day in range`);
    const days = byDay.map((d) => AGG[inner[1]!]!(d));
    out.set(`${inner[2]}||${ANY}`, mean(days));
    return out;
  }
  if (p.transformations !== undefined) {
    // By what the title promises, not by the query's FROM: every reading once, whatever measurements exist.
    const pts = selected(q, range, vars, READING_METRICS);
    if (p.title === 'Values stored per district')
      for (const [district, xs] of groupBy(pts, (x) => x.district)) out.set(`|${district}|${ANY}`, xs.length);
    else if (p.title === 'Devices reporting per interval')
      for (const [t, xs] of groupBy(pts, (x) => String(hourOf(x.ts))))
        out.set(`||${t}`, new Set(xs.map((x) => x.deviceId)).size);
    else throw new Error(`no expected values for ${p.title}`);
    return out;
  }
  // A sound level over each bucket: the energetic mean of the levels themselves, 10·log10(mean(10^(L/10))),
  // computed here from the readings, not from the companion series the query reads.
  const energetic =
    /^SELECT 10 \* log10\(mean\("value"\)\) FROM "([^"]+)\.energy" WHERE .*?(?: GROUP BY (.*?))?(?: fill\(none\))?(?: tz\('[^']+'\))?$/.exec(
      q,
    );
  if (plain === null && energetic === null) throw new Error(`query of an unknown shape: ${q}`);
  const metrics =
    energetic !== null ? [energetic[1]!] : [...plain![3]!.matchAll(/"([^"]+)"/g)].map((m) => m[1]!);
  const groups = energetic !== null ? energetic[2] : plain![4];
  const value: (xs: Point[]) => number =
    energetic !== null
      ? (xs) => 10 * Math.log10(mean(xs.map((x) => 10 ** (x.value / 10))))
      : plain![2] === 'ts_ms'
        ? (xs) => Math.max(...xs.map((x) => x.ts))
        : AGG[plain![1]!]!;
  const measurement = (x: Point) => (energetic !== null ? `${x.metric}.energy` : x.metric);
  const pts = selected(q, range, vars, metrics);
  const keys = (groups ?? '').split(', ').filter((g) => g !== '');
  const timeOf = keys.includes('time($__interval)') ? hourOf : keys.includes('time(1d)') ? dayOf : () => ANY;
  const tags = keys.filter((g) => !g.startsWith('time(')).map((g) => TAG_OF[g.replaceAll('"', '')]!);
  const key = (x: Point) => `${measurement(x)}|${tags.map((t) => t(x)).join(',')}|${timeOf(x.ts)}`;
  for (const [k, xs] of groupBy(pts, key)) out.set(k, value(xs));
  return out;
}

/** Grafana's merge + groupBy on table rows: the cross-measurement panels' final rows. */
function transformed(
  p: PanelJson,
  results: Awaited<ReturnType<InfluxTestServer['query']>>,
): Map<string, number> {
  const rows = results
    .flatMap((r) => r.series ?? [])
    .flatMap((s) => s.values.map((v) => ({ Time: Number(v[0]), ...s.tags, count: Number(v[1]) })));
  const group = p.transformations!.find((t) => t.id === 'groupBy');
  if (group === undefined || group.id !== 'groupBy') throw new Error('no groupBy');
  const fields = Object.entries(group.options.fields);
  const by = fields.filter(([, f]) => f.operation === 'groupby').map(([n]) => n) as Array<
    keyof (typeof rows)[0]
  >;
  const [aggField, agg] = fields.find(([, f]) => f.operation === 'aggregate')! as [
    string,
    { aggregations: string[] },
  ];
  const out = new Map<string, number>();
  for (const [k, xs] of groupBy(rows, (r) => by.map((b) => String(r[b])).join('|'))) {
    const values = xs.map((r) => (r as Record<string, unknown>)[aggField]);
    const v =
      agg.aggregations[0] === 'sum'
        ? values.reduce((a: number, b) => a + Number(b), 0)
        : new Set(values).size;
    out.set(by[0] === 'Time' ? `||${k}` : `|${k}|${ANY}`, v);
  }
  return out;
}

/** The one measurement a panel query reads (null for the cross-measurement panels) and its kind filter. */
function readOf(q: string): { metric: string; kind: string | undefined } | null {
  const froms = [...q.matchAll(/FROM ((?:"[^"]+"(?:, )?)+)/g)].flatMap((f) =>
    [...f[1]!.matchAll(/"([^"]+)"/g)].map((m) => m[1]!),
  );
  if (new Set(froms).size !== 1) return null;
  return { metric: froms[0]!.replace(/\.energy$/, ''), kind: /"kind" = '([^']+)'/.exec(q)?.[1] };
}

/** Kind metrics no panel shows yet, each said here so that a new kind's metric cannot be forgotten silently. */
const NO_PANEL: Readonly<Record<string, readonly string[]>> = {
  'emf-probe': ['efield'],
  'transit-stop-display': ['heartbeat'],
  'traffic-signal-controller': ['adaptive'],
};

describe('Grafana panels cover every device kind', () => {
  it('each metric of each kind is read by a panel (of that kind where the metric is shared), so its values are compared below', () => {
    const reads = [...renderDashboards(ZONE).values()].flatMap((text) =>
      (JSON.parse(text) as DashboardJson).panels.flatMap((p) =>
        p.targets.map((t) => readOf(t.query)).filter((r) => r !== null),
      ),
    );
    const missing: string[] = [];
    for (const kind of deviceKinds)
      for (const m of kind.metrics)
        if (
          !(NO_PANEL[kind.id] ?? []).includes(m.name) &&
          !reads.some((r) => r.metric === m.name && (r.kind === undefined || r.kind === kind.id))
        )
          missing.push(`${kind.id}.${m.name}`);
    expect(missing).toEqual([]);
    // the exemptions are real gaps, not stale entries
    for (const [kind, metrics] of Object.entries(NO_PANEL))
      for (const metric of metrics)
        expect(
          reads.some((r) => r.metric === metric && (r.kind ?? kind) === kind),
          `${kind}.${metric}`,
        ).toBe(false);
  });
});

describe.skipIf(binary === null)('Grafana panel values on a real InfluxDB 1.x with known data', () => {
  beforeAll(async () => {
    server = await startInfluxd(binary!);
    dir = makeTempDir('citymetrics-grafana-values-');
    // Through the store wrapper every composition root uses, so the energy companions of sound levels are
    // in InfluxDB as they are in production: a panel counting them would count those readings twice.
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
      isSoundLevelUnit(kindCatalogue.metric(kind, metric)?.unit ?? ''),
    );
    let written = 0;
    for (let i = 0; i < POINTS.length; i += 5_000)
      written += (await store.write(POINTS.slice(i, i + 5_000))).inserted;
    expect(written).toBe(POINTS.length);
    // The companions are there: one per sound-level reading.
    expect(SOUND_LEVEL_POINTS.length).toBeGreaterThan(0);
    const companions = new Set(SOUND_LEVEL_POINTS.map((p) => energyMetric(p.metric)));
    const counted = await server.query(
      `SELECT count("value") FROM ${[...companions].map((m) => `"${m}"`).join(', ')}`,
      'citymetrics',
    );
    const total = counted
      .flatMap((r) => r.series ?? [])
      .reduce((a, s) => a + s.values.reduce((b, v) => b + Number(v[1]), 0), 0);
    expect(total).toBe(SOUND_LEVEL_POINTS.length);
  }, 300_000);
  afterAll(async () => {
    await store?.close();
    dir?.remove();
    await server?.destroy();
  });

  for (const [name, text] of renderDashboards(ZONE)) {
    const d = JSON.parse(text) as DashboardJson;
    it(`${name}: every panel's values, for both districts and for one`, async () => {
      let compared = 0;
      for (const districts of [DISTRICTS, [DISTRICTS[1]!]]) {
        const vars: Record<string, string[]> = { district: districts };
        const kinds = /"kind" =~ \/\^\((.*)\)\$\//.exec(
          String(d.templating.list.find((v) => v.name === 'device')?.query ?? ''),
        )?.[1];
        if (d.templating.list.some((v) => v.name === 'device'))
          vars.device = [...new Set(POINTS.map((p) => p.deviceId))].filter(
            (id) =>
              POINTS.some((p) => p.deviceId === id && districts.includes(p.district)) &&
              (kinds === undefined || new RegExp(`^(${kinds})$`).test(id.replace(/-\d+$/, ''))),
          );
        for (const p of d.panels)
          for (const t of p.targets) {
            const range = panelRange(p);
            const results = await server.query(expand(t.query, range, vars), 'citymetrics');
            const want = expected(p, t.query, range, vars);
            const byTime = ![...want.keys()].some((k) => k.endsWith(`|${ANY}`));
            const got = p.transformations !== undefined ? transformed(p, results) : rowsOf(results, byTime);
            expect(want.size, `${name} / ${p.title}: known data`).toBeGreaterThan(0);
            expect([...got.keys()].sort(), `${name} / ${p.title}: rows`).toEqual([...want.keys()].sort());
            for (const [k, v] of want) expect(got.get(k), `${name} / ${p.title} ${k}`).toBeCloseTo(v, 6);
            compared += want.size;
          }
      }
      expect(compared).toBeGreaterThan(0);
    }, 120_000);
  }
});
