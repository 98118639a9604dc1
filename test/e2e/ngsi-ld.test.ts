import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.ts';
import { DEVICE_MODELS } from '../../dashboards/ngsi-ld/mapping.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/platform-harness.ts';

/**
 * The NGSI-LD API on the whole platform: readings published over MQTT, KPIs computed and a month closed,
 * then every entity type read back in both representations and validated against the published Smart
 * Data Models schemas (test/fixtures/smart-data-models, their $refs resolved locally).
 */

const ZONE = 'Europe/Paris';
const APRIL_10 = DateTime.fromISO('2026-04-10T12:00:00', { zone: ZONE }).toMillis();
const here = dirname(fileURLToPath(import.meta.url));
const FIXTURES = join(here, '..', 'fixtures', 'smart-data-models');
const ROOT = join(here, '..', '..');
const readJson = (path: string) =>
  JSON.parse(readFileSync(join(FIXTURES, path), 'utf8')) as Record<string, unknown>;

type Json = Record<string, unknown>;
interface Problem {
  type: string;
  title: string;
  detail: string;
  status: number;
  code: string;
}

/** ajv over the fixtures; the one $ref to a raw.githubusercontent URL is the same file as its $id. */
function validators(): Record<string, ValidateFunction> {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  // CommonJS under NodeNext: the plugin is the module's `default` member.
  formats.default(ajv);
  ajv.addSchema(readJson('data-models/common-schema.json'));
  const environment = readJson('dataModel.Environment/Environment-schema.json');
  ajv.addSchema(environment);
  ajv.addSchema({
    ...environment,
    $id: 'https://raw.githubusercontent.com/smart-data-models/dataModel.Environment/master/Environment-schema.json',
  });
  const compile = (path: string) => ajv.compile(readJson(path));
  return {
    AirQualityObserved: compile('dataModel.Environment/AirQualityObserved/schema.json'),
    NoiseLevelObserved: compile('dataModel.Environment/NoiseLevelObserved/schema.json'),
    TrafficFlowObserved: compile('dataModel.Transportation/TrafficFlowObserved/schema.json'),
    WaterConsumptionObserved: compile('dataModel.WaterConsumption/WaterConsumptionObserved/schema.json'),
    KeyPerformanceIndicator: compile('dataModel.KeyPerformanceIndicator/KeyPerformanceIndicator/schema.json'),
  };
}

/** The simplified form of a normalized entity: what the Smart Data Models schemas describe. */
function simplify(entity: Json): Json {
  const out: Json = {};
  for (const [name, attr] of Object.entries(entity)) {
    if (name === 'id' || name === 'type' || name === '@context') {
      out[name] = attr;
      continue;
    }
    const a = attr as { type: string; value: unknown; observedAt?: string; unitCode?: string };
    expect([name, a.type]).toEqual([name, name === 'location' ? 'GeoProperty' : 'Property']);
    if (a.observedAt !== undefined) expect(Number.isNaN(Date.parse(a.observedAt)), name).toBe(false);
    const v = a.value as { '@type'?: string; '@value'?: unknown };
    out[name] = v !== null && typeof v === 'object' && v['@type'] === 'DateTime' ? v['@value'] : a.value;
  }
  return out;
}

describe('NGSI-LD API', () => {
  let t: TestPlatform;
  let viewer: string;
  const clock = new ManualClock(APRIL_10);
  const ids: Record<string, string> = {};
  const check = validators();

  const get = async <T = Json[]>(
    path: string,
    accept = 'application/json',
    token: string | null = viewer,
  ) => {
    const res = await fetch(`${t.addresses.httpUrl}${path}`, {
      headers: { accept, ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
    });
    return { status: res.status, headers: res.headers, body: (await res.json()) as T };
  };
  const valid = (entity: Json) => {
    const validate = check[entity.type as string]!;
    const { '@context': _c, ...plain } = entity;
    const ok = validate(plain);
    expect([entity.id, ok ? [] : validate.errors]).toEqual([entity.id, []]);
  };

  beforeAll(async () => {
    t = await startTestPlatform({ cityTimezone: ZONE, cityName: 'Testville', kpiCloseGraceDays: 5 }, clock);
    viewer = (await t.api<{ key: string }>('POST', '/api/keys', { name: 'broker', role: 'viewer' })).body.key;
    const place = async (kind: string, district: string, lat: number, lon: number, attrs?: Json) => {
      const dev = await t.provision(kind, district, attrs as Record<string, number>);
      await t.api('PATCH', `/api/devices/${dev.id}`, { location: { lat, lon } });
      ids[kind] = dev.id;
      return t.connect(dev.id, dev.password);
    };
    // Every device is provisioned first; its readings come half an hour later, inside its life (a reading
    // from before a device was provisioned is not counted for it).
    const aq = await place('air-quality-station', 'Old Town', 48.85, 2.35);
    const noise = await place('noise-monitor', 'Harbour', 48.86, 2.36);
    const traffic = await place('traffic-counter', 'Old Town', 48.87, 2.37, {
      segmentLengthKm: 1.2,
      freeFlowSpeedKmh: 50,
    });
    const water = await place('water-smart-meter', 'Harbour', 48.88, 2.38);
    clock.advance(30 * 60_000);
    const ts = clock.now() - 5_000;
    const publish = async (client: Awaited<ReturnType<typeof place>>, id: string, values: Json, at = ts) =>
      client.publishAsync(`devices/${id}/telemetry`, JSON.stringify({ ts: at, values }), { qos: 1 });
    await publish(aq, ids['air-quality-station']!, {
      pm25: 12.5,
      pm10: 20,
      no2: { value: 10, unit: 'ppb' },
      so2: 4,
      o3: 31,
      battery: 90,
    });
    await publish(noise, ids['noise-monitor']!, { laeq: 55.5, battery: 80 });
    await publish(traffic, ids['traffic-counter']!, { count: 42, speed: 37.5, occupancy: 12 });
    await publish(water, ids['water-smart-meter']!, { volume: 1.25, rssi: -70 }, ts - 900_000);
    await publish(water, ids['water-smart-meter']!, { volume: 2.5 });
    await t.platform.ingest.drain();
    // The readings' recompute is debounced: run it now, as the known-answer tests do.
    await t.platform.kpis.engine.flush();
    expect((await t.api('POST', '/api/rollups/2026-03/close')).status).toBe(201);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('returns every type, schema-valid, in the normalized and the simplified form', async () => {
    const types = [...DEVICE_MODELS.map((m) => m.type), 'KeyPerformanceIndicator'];
    for (const type of types) {
      const normalized = await get(`/ngsi-ld/v1/entities?type=${type}&limit=1000`);
      expect([type, normalized.status]).toEqual([type, 200]);
      expect(normalized.body.length, type).toBeGreaterThan(0);
      for (const e of normalized.body) {
        expect(e.type).toBe(type);
        valid(simplify(e));
      }
      const simple = await get(`/ngsi-ld/v1/entities?type=${type}&options=keyValues&limit=1000`);
      expect(simple.body.map((e) => e.id)).toEqual(normalized.body.map((e) => e.id));
      for (const e of simple.body) valid(e);
    }
    // The validators can fail: occupancy as a percentage, as we store it, is not the model's fraction.
    const traffic = await get('/ngsi-ld/v1/entities?type=TrafficFlowObserved&options=keyValues');
    expect(check.TrafficFlowObserved!({ ...traffic.body[0], occupancy: 12 })).toBe(false);
    const noise = await get<Json>(
      `/ngsi-ld/v1/entities/urn:ngsi-ld:NoiseLevelObserved:${ids['noise-monitor']}`,
    );
    expect(noise.body.dateObservedTo).toEqual({
      type: 'Property',
      value: { '@type': 'DateTime', '@value': new Date(clock.now() - 5_000).toISOString() },
    });
  });

  it('maps metrics to model attributes in canonical units with UN/CEFACT codes, and leaves others out', async () => {
    const aq = await get<Json>(
      `/ngsi-ld/v1/entities/urn:ngsi-ld:AirQualityObserved:${ids['air-quality-station']}`,
    );
    expect(aq.status).toBe(200);
    expect(aq.body.pm25).toMatchObject({ type: 'Property', value: 12.5, unitCode: 'GQ' });
    // 10 ppb NO2 at EU reference conditions (20 °C, 101.325 kPa) is 10 × 46.0055 / 24.055 = 19.125 µg/m³.
    expect((aq.body.no2 as { value: number }).value).toBeCloseTo(
      (10 * 46.0055 * 101.325) / (8.314462618 * 293.15),
      6,
    );
    expect(aq.body).not.toHaveProperty('battery');
    expect(aq.body).not.toHaveProperty('co');
    expect(aq.body.location).toEqual({
      type: 'GeoProperty',
      value: { type: 'Point', coordinates: [2.35, 48.85] },
    });
    expect(aq.body.address).toMatchObject({ value: { addressLocality: 'Testville', district: 'Old Town' } });

    const noise = await get<Json>(
      `/ngsi-ld/v1/entities/urn:ngsi-ld:NoiseLevelObserved:${ids['noise-monitor']}?options=keyValues`,
    );
    expect(noise.body).toMatchObject({ LAeq: 55.5, areaServed: 'Harbour' });
    const traffic = await get<Json>(
      `/ngsi-ld/v1/entities/urn:ngsi-ld:TrafficFlowObserved:${ids['traffic-counter']}`,
    );
    expect(traffic.body.intensity).toMatchObject({ value: 42 });
    expect(traffic.body.averageVehicleSpeed).toMatchObject({ value: 37.5, unitCode: 'KMH' });
    expect(traffic.body.occupancy).toMatchObject({ value: 0.12, unitCode: 'C62' });
    const water = await get<Json>(
      `/ngsi-ld/v1/entities/urn:ngsi-ld:WaterConsumptionObserved:${ids['water-smart-meter']}`,
    );
    // The register: 1.25 + 2.5 m³ reported, in whole m³.
    expect(water.body.waterConsumption).toMatchObject({ value: 4, unitCode: 'MTQ' });
    expect(water.body).not.toHaveProperty('rssi');
  });

  it('publishes KPI values for the month to date and the last closed month', async () => {
    const kpis = await get('/ngsi-ld/v1/entities?type=KeyPerformanceIndicator&options=keyValues&limit=1000');
    const air = kpis.body.find((e) => e.id === 'urn:ngsi-ld:KeyPerformanceIndicator:EN-EN-AQ-1C:2026-04-mtd');
    expect(air).toMatchObject({
      alternateName: 'EN: EN: AQ: 1C',
      organization: 'Testville',
      calculationPeriod: { from: '2026-04-01', to: '2026-04-10' },
      kpiValue: { 'PM2.5': 12.5 },
    });
    const march = kpis.body.filter((e) => String(e.id).endsWith(':2026-03'));
    expect(march.length).toBe(91);
    expect(march[0]).toMatchObject({
      calculationPeriod: { from: '2026-03-01', to: '2026-03-31' },
      calculationFrequency: 'monthly',
    });
    const mtd = kpis.body.filter((e) => String(e.id).endsWith(':2026-04-mtd'));
    expect(mtd.length).toBe(91);
  });

  it('negotiates: @context in the body for ld+json, a Link header for json', async () => {
    const ld = await get('/ngsi-ld/v1/entities?type=NoiseLevelObserved', 'application/ld+json');
    expect(ld.headers.get('content-type')).toContain('application/ld+json');
    expect(ld.body[0]!['@context']).toContain(
      'https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld',
    );
    const json = await get('/ngsi-ld/v1/entities?type=NoiseLevelObserved');
    expect(json.headers.get('content-type')).toContain('application/json');
    expect(json.body[0]).not.toHaveProperty('@context');
    const link = json.headers.get('link')!;
    expect(link).toMatch(/rel="http:\/\/www\.w3\.org\/ns\/json-ld#context"/);
    const url = /^<([^>]+)>/.exec(link)![1]!;
    const context = await fetch(url);
    expect(context.status).toBe(200);
    expect(((await context.json()) as { '@context': string[] })['@context']).toEqual(ld.body[0]!['@context']);
  });

  it('filters by district with q, by id and attrs, and pages with a count', async () => {
    const all = 'type=AirQualityObserved,NoiseLevelObserved,TrafficFlowObserved,WaterConsumptionObserved';
    const oldTown = await get(`/ngsi-ld/v1/entities?${all}&q=${encodeURIComponent('district=="Old Town"')}`);
    expect(oldTown.body.map((e) => e.type).sort()).toEqual(['AirQualityObserved', 'TrafficFlowObserved']);
    const harbour = await get(
      `/ngsi-ld/v1/entities?${all}&q=${encodeURIComponent('address[district]=="Harbour"')}`,
    );
    expect(harbour.body.map((e) => e.type).sort()).toEqual([
      'NoiseLevelObserved',
      'WaterConsumptionObserved',
    ]);
    const kpiInDistrict = await get(
      `/ngsi-ld/v1/entities?type=KeyPerformanceIndicator&q=${encodeURIComponent('district=="Harbour"')}`,
    );
    expect(kpiInDistrict.body).toEqual([]);

    const id = `urn:ngsi-ld:NoiseLevelObserved:${ids['noise-monitor']}`;
    const byId = await get(`/ngsi-ld/v1/entities?${all}&id=${id}&attrs=LAeq&options=keyValues`);
    expect(byId.body).toEqual([{ id, type: 'NoiseLevelObserved', LAeq: 55.5 }]);

    const page = await get(`/ngsi-ld/v1/entities?${all}&count=true&limit=3&offset=2`);
    expect(page.headers.get('ngsild-results-count')).toBe('4');
    expect(page.body).toHaveLength(2);
    const counted = await get(`/ngsi-ld/v1/entities?${all}&count=true&limit=0`);
    expect([counted.headers.get('ngsild-results-count'), counted.body]).toEqual(['4', []]);
  });

  it('answers an unknown type with an empty list', async () => {
    const res = await get('/ngsi-ld/v1/entities?type=WeatherObserved');
    expect([res.status, res.body]).toEqual([200, []]);
  });

  it('refuses queries it cannot answer with 400 BadRequestData problem details', async () => {
    for (const query of [
      `type=AirQualityObserved&q=${encodeURIComponent('district!="Old Town"')}`,
      `type=AirQualityObserved&q=${encodeURIComponent('pm25>10')}`,
      `type=AirQualityObserved&q=${encodeURIComponent('name=="x"')}`,
      `type=AirQualityObserved&q=${encodeURIComponent('district=="a";areaServed=="b"')}`,
      'q=district%3D%3D%22Old%20Town%22',
      'type=AirQualityObserved&limit=5000',
      'type=AirQualityObserved&options=sysAttrs',
      'type=AirQualityObserved&georel=near',
    ]) {
      const res = await get<Problem>(`/ngsi-ld/v1/entities?${query}`);
      expect([query, res.status, res.body.type, res.body.code]).toEqual([
        query,
        400,
        'https://uri.etsi.org/ngsi-ld/errors/BadRequestData',
        'API_VALIDATION',
      ]);
      expect(res.body.title).toBeTruthy();
      expect(res.body.detail).toBeTruthy();
    }
  });

  it('answers 404 ResourceNotFound for an unknown entity and 400 for an id that is no URI', async () => {
    const missing = await get<Problem>('/ngsi-ld/v1/entities/urn:ngsi-ld:AirQualityObserved:nosuchdevice');
    expect([missing.status, missing.body.type]).toEqual([
      404,
      'https://uri.etsi.org/ngsi-ld/errors/ResourceNotFound',
    ]);
    // A device's id under another type's URN is not that entity.
    const wrongType = await get<Problem>(
      `/ngsi-ld/v1/entities/urn:ngsi-ld:AirQualityObserved:${ids['noise-monitor']}`,
    );
    expect(wrongType.status).toBe(404);
    const notUri = await get<Problem>('/ngsi-ld/v1/entities/plainword');
    expect([notUri.status, notUri.body.code]).toEqual([400, 'API_VALIDATION']);
    const noRoute = await get<Problem>('/ngsi-ld/v1/subscriptions');
    expect([noRoute.status, noRoute.body.type]).toEqual([
      404,
      'https://uri.etsi.org/ngsi-ld/errors/ResourceNotFound',
    ]);
  });

  it('requires a viewer key: 401 problem details without one', async () => {
    const res = await get<Problem>('/ngsi-ld/v1/entities?type=AirQualityObserved', 'application/json', null);
    expect([res.status, res.body.code, res.body.status]).toEqual([401, 'API_UNAUTHENTICATED', 401]);
    expect(res.headers.get('www-authenticate')).toContain('Bearer');
    const one = await get<Problem>(
      `/ngsi-ld/v1/entities/urn:ngsi-ld:NoiseLevelObserved:${ids['noise-monitor']}`,
      'application/json',
      null,
    );
    expect(one.status).toBe(401);
  });

  it('README lists the same metric mapping as the code', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const rows = DEVICE_MODELS.flatMap((model) =>
      model.kinds.flatMap((kind) =>
        Object.entries(model.metrics).map(
          ([metric, m]) =>
            `| ${kind} | \`${metric}\` | ${model.type} | \`${m.attribute}\` | ${m.unitCode ? `\`${m.unitCode}\`` : '—'} |`,
        ),
      ),
    );
    expect(rows.filter((row) => !readme.includes(row))).toEqual([]);
  });
});
