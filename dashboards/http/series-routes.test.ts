import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SeriesPoint } from '../../core/ports/series-store.ts';
import { type HttpHarness, startHttpHarness } from './http-test-harness.ts';

interface ErrorBody {
  error: { code: string; message: string; field?: string };
}
interface SeriesBody {
  scope: unknown;
  metric: string;
  unit: string;
  averaging: string;
  step: string;
  timezone: string;
  points: Array<{ t: string; count: number; mean: number; min: number; max: number; averaging?: string }>;
}

const at = (iso: string): number => Date.parse(iso);

let h: HttpHarness;
let a: string;
let b: string;
let c: string;

beforeAll(async () => {
  h = await startHttpHarness({ config: { cityTimezone: 'Europe/Paris' } });
  a = (await h.registry.provision({ kind: 'air-quality-station', district: 'Harbour' })).device.id;
  b = (await h.registry.provision({ kind: 'air-quality-station', district: 'Harbour' })).device.id;
  c = (await h.registry.provision({ kind: 'noise-monitor', district: 'Docks' })).device.id;
  const point = (
    deviceId: string,
    kind: string,
    district: string,
    metric: string,
    iso: string,
    value: number,
  ): SeriesPoint => ({
    deviceId,
    kind,
    district,
    metric,
    ts: at(iso),
    value,
  });
  await h.store.write([
    point(a, 'air-quality-station', 'Harbour', 'pm25', '2026-03-01T10:05:00Z', 10),
    point(a, 'air-quality-station', 'Harbour', 'pm25', '2026-03-01T10:35:00Z', 20),
    point(a, 'air-quality-station', 'Harbour', 'pm25', '2026-03-01T11:10:00Z', 30),
    point(a, 'air-quality-station', 'Harbour', 'battery', '2026-03-01T10:50:00Z', 88),
    point(b, 'air-quality-station', 'Harbour', 'pm25', '2026-03-01T10:20:00Z', 40),
    point(c, 'noise-monitor', 'Docks', 'laeq', '2026-03-01T10:00:00Z', 55),
  ]);
});
afterAll(async () => {
  await h.close();
});

const series = (query: string) =>
  h.api<SeriesBody & ErrorBody>('GET', `/api/series?${query}`, { token: h.tokens.viewer });

describe('GET /api/series', () => {
  it('buckets one device by hour, with unit and time zone', async () => {
    const res = await series(
      `device=${a}&metric=pm25&from=2026-03-01T10:00:00Z&to=2026-03-01T12:00:00Z&step=hour`,
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      scope: { device: a },
      metric: 'pm25',
      unit: 'µg/m³',
      step: 'hour',
      timezone: 'Europe/Paris',
    });
    expect(res.body.points).toEqual([
      { t: '2026-03-01T10:00:00.000Z', count: 2, mean: 15, min: 10, max: 20 },
      { t: '2026-03-01T11:00:00.000Z', count: 1, mean: 30, min: 30, max: 30 },
    ]);
  });

  it('merges a district and the city; days are local days', async () => {
    const district = await series(
      'district=Harbour&metric=pm25&from=2026-03-01T10:00:00Z&to=2026-03-01T11:00:00Z',
    );
    expect(district.body.scope).toEqual({ district: 'Harbour' });
    expect(district.body.points).toEqual([
      { t: '2026-03-01T10:00:00.000Z', count: 3, mean: 70 / 3, min: 10, max: 40 },
    ]);
    const city = await series(
      'city&metric=pm25&from=2026-03-01T00:00:00%2B01:00&to=2026-03-02T00:00:00%2B01:00&step=day',
    );
    expect(city.body.scope).toEqual({ city: true });
    // Midnight in Paris (UTC+1 in March before DST) is 23:00 UTC the day before.
    expect(city.body.points.map((p) => [p.t, p.count, p.max])).toEqual([['2026-02-28T23:00:00.000Z', 4, 40]]);
  });

  it('keeps kinds that share a metric name apart: energy of customer meters is not energy generated', async () => {
    const m1 = (await h.registry.provision({ kind: 'electricity-smart-meter', district: 'Harbour' })).device
      .id;
    const m2 = (await h.registry.provision({ kind: 'electricity-smart-meter', district: 'Docks' })).device.id;
    const g = (await h.registry.provision({ kind: 'renewable-generation-meter', district: 'Harbour' })).device
      .id;
    const energy = (deviceId: string, kind: string, district: string, iso: string, value: number) => ({
      deviceId,
      kind,
      district,
      metric: 'energy',
      ts: at(iso),
      value,
    });
    await h.store.write([
      energy(m1, 'electricity-smart-meter', 'Harbour', '2026-03-02T10:05:00Z', 1),
      energy(m1, 'electricity-smart-meter', 'Harbour', '2026-03-02T11:05:00Z', 3),
      energy(m2, 'electricity-smart-meter', 'Docks', '2026-03-02T10:10:00Z', 2),
      energy(g, 'renewable-generation-meter', 'Harbour', '2026-03-02T10:15:00Z', 900),
    ]);
    const range = 'from=2026-03-02T10:00:00Z&to=2026-03-02T12:00:00Z&step=hour';
    // Without a kind the city mean would mix 1, 2 and 900 kWh of different things: refused.
    const mixed = await series(`city&metric=energy&${range}`);
    expect([mixed.status, mixed.body.error.code, mixed.body.error.field]).toEqual([
      400,
      'API_VALIDATION',
      'kind',
    ]);
    expect(mixed.body.error.message).toContain('renewable-generation-meter');
    const customers = await series(`city&kind=electricity-smart-meter&metric=energy&${range}`);
    expect(customers.status).toBe(200);
    expect(customers.body).toMatchObject({
      scope: { city: true },
      kind: 'electricity-smart-meter',
      unit: 'kWh',
    });
    expect(customers.body.points).toEqual([
      { t: '2026-03-02T10:00:00.000Z', count: 2, mean: 1.5, min: 1, max: 2 },
      { t: '2026-03-02T11:00:00.000Z', count: 1, mean: 3, min: 3, max: 3 },
    ]);
    const generated = await series(`city&kind=renewable-generation-meter&metric=energy&${range}`);
    expect(generated.body.points).toEqual([
      { t: '2026-03-02T10:00:00.000Z', count: 1, mean: 900, min: 900, max: 900 },
    ]);
    // A district narrows the kind to its devices.
    const harbour = await series(`district=Harbour&kind=electricity-smart-meter&metric=energy&${range}`);
    expect(harbour.body.points.map((p) => [p.count, p.max])).toEqual([
      [1, 1],
      [1, 3],
    ]);
    // The one kind reporting a metric is the city's series of it.
    const pm = 'metric=pm25&from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z';
    const pmKind = await series(`city&kind=air-quality-station&${pm}`);
    expect(pmKind.body.points.length).toBeGreaterThan(0);
    expect(pmKind.body.points).toEqual((await series(`city&${pm}`)).body.points);
    // A metric all kinds mean alike (battery charge) still merges without a kind.
    const battery = await series('city&metric=battery&from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z');
    expect(battery.status).toBe(200);
    const wrong = [
      [`city&kind=no-such-kind&metric=energy&${range}`, 'kind'],
      [`device=${m1}&kind=renewable-generation-meter&metric=energy&${range}`, 'kind'],
      [`district=Docks&kind=renewable-generation-meter&metric=energy&${range}`, 'kind'],
      [`city&kind=air-quality-station&metric=energy&${range}`, 'metric'],
    ];
    for (const [query, field] of wrong) {
      const res = await series(query!);
      expect([query, res.status, res.body.error?.field]).toEqual([query, 400, field]);
    }
  });

  it('refuses what it cannot answer, with the field at fault', async () => {
    const cases: Array<[string, number, string, string | undefined]> = [
      [
        `device=${a}&district=Harbour&metric=pm25&from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z`,
        400,
        'API_VALIDATION',
        'device',
      ],
      ['metric=pm25&from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z', 400, 'API_VALIDATION', 'device'],
      ['city&metric=pm25&from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z', 400, 'API_VALIDATION', 'to'],
      ['city&metric=pm25&from=yesterday&to=2026-03-01T00:00:00Z', 400, 'API_VALIDATION', 'from'],
      [
        'city&metric=pm25&from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&step=week',
        400,
        'API_VALIDATION',
        'step',
      ],
      [
        'city&metric=pm25&from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z&step=minute',
        400,
        'API_VALIDATION',
        'step',
      ],
      [
        `device=${a}&metric=laeq&from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z`,
        400,
        'API_VALIDATION',
        'metric',
      ],
      [
        'district=Docks&metric=pm25&from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z',
        400,
        'API_VALIDATION',
        'metric',
      ],
      [
        'city&metric=nothing&from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z',
        400,
        'API_VALIDATION',
        'metric',
      ],
      [
        'device=aq-nosuch00&metric=pm25&from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z',
        404,
        'DEVICES_NOT_FOUND',
        'device',
      ],
    ];
    for (const [query, status, code, field] of cases) {
      const res = await series(query);
      expect([query, res.status, res.body.error?.code, res.body.error?.field]).toEqual([
        query,
        status,
        code,
        field,
      ]);
    }
    const tooMany = await series(
      'city&metric=pm25&from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z&step=minute',
    );
    expect(tooMany.body.error.message).toContain('at most 10000');
  });

  it('averages a sound level energetically at every step, and keeps its energy series out of latest', async () => {
    // One hour of one-minute LAeq: 63 dB(A) every fifth minute, 50 otherwise.
    const levels = Array.from({ length: 60 }, (_, m) => (m % 5 === 0 ? 63 : 50));
    await h.store.write(
      levels.map((value, m) => ({
        deviceId: c,
        kind: 'noise-monitor',
        district: 'Docks',
        metric: 'laeq',
        ts: at('2026-03-01T12:00:00Z') + m * 60_000,
        value,
      })),
    );
    // By hand: 10·log10((12·10^6.3 + 48·10^5) / 60) = 56.80 dB(A); the arithmetic mean would be 52.6.
    const hourLaeq = 10 * Math.log10((12 * 10 ** 6.3 + 48 * 10 ** 5) / 60);
    expect(hourLaeq).toBeCloseTo(56.8, 2);
    const hour = await series(
      `device=${c}&metric=laeq&from=2026-03-01T12:00:00Z&to=2026-03-01T13:00:00Z&step=hour`,
    );
    expect(hour.body).toMatchObject({ unit: 'dB(A)', averaging: 'energetic' });
    expect(hour.body.points).toHaveLength(1);
    expect(hour.body.points[0]!.count).toBe(60);
    expect(hour.body.points[0]!.mean).toBeCloseTo(hourLaeq, 9);
    expect([hour.body.points[0]!.min, hour.body.points[0]!.max]).toEqual([50, 63]);
    // The Paris day also holds the 55 dB(A) reading at 10:00: 61 readings in all.
    const dayLaeq = 10 * Math.log10((12 * 10 ** 6.3 + 48 * 10 ** 5 + 10 ** 5.5) / 61);
    const day = await series(
      `device=${c}&metric=laeq&from=2026-03-01T00:00:00%2B01:00&to=2026-03-02T00:00:00%2B01:00&step=day`,
    );
    expect(day.body.points.map((p) => p.count)).toEqual([61]);
    expect(day.body.points[0]!.mean).toBeCloseTo(dayLaeq, 9);
    const pm = await series(`device=${a}&metric=pm25&from=2026-03-01T10:00:00Z&to=2026-03-01T11:00:00Z`);
    expect(pm.body).toMatchObject({ averaging: 'arithmetic' });
    const latest = await h.api<{ values: Array<{ metric: string; value: number }> }>(
      'GET',
      `/api/devices/${c}/latest`,
      { token: h.tokens.viewer },
    );
    // The newest reading is minute 59 (50 dB(A)); laeq.energy is not a metric of the device.
    expect(latest.body.values).toEqual([expect.objectContaining({ metric: 'laeq', value: 50 })]);
  });

  it("marks a sound level's bucket without an energy series: its mean is the arithmetic stand-in", async () => {
    // Written without the companion, as a release before it stored one: 12 minutes at 63, 48 at 50.
    await h.rawStore.write(
      Array.from({ length: 60 }, (_, m) => ({
        deviceId: c,
        kind: 'noise-monitor',
        district: 'Docks',
        metric: 'laeq',
        ts: at('2026-03-01T15:00:00Z') + m * 60_000,
        value: m % 5 === 0 ? 63 : 50,
      })),
    );
    const old = await series(
      `device=${c}&metric=laeq&from=2026-03-01T12:00:00Z&to=2026-03-01T16:00:00Z&step=hour`,
    );
    expect(old.status).toBe(200);
    const byHour = new Map(old.body.points.map((p) => [p.t, p]));
    // By hand: the arithmetic mean (12·63 + 48·50) / 60 = 52.6, marked; the 12:00 hour has its energy.
    expect(byHour.get('2026-03-01T15:00:00.000Z')).toMatchObject({ count: 60, averaging: 'arithmetic' });
    expect(byHour.get('2026-03-01T15:00:00.000Z')?.mean).toBeCloseTo(52.6, 9);
    expect(byHour.get('2026-03-01T12:00:00.000Z')).not.toHaveProperty('averaging');
  });

  it('answers an empty range with no points', async () => {
    const res = await series(
      `device=${c}&metric=laeq&from=2026-02-01T00:00:00Z&to=2026-02-02T00:00:00Z&step=minute`,
    );
    expect([res.status, res.body.unit, res.body.points]).toEqual([200, 'dB(A)', []]);
  });
});

describe('GET /api/devices/:id/latest', () => {
  it('gives the newest value of each metric by reading time, newest first, with units', async () => {
    const res = await h.api<{ deviceId: string; values: unknown[] }>('GET', `/api/devices/${a}/latest`, {
      token: h.tokens.viewer,
    });
    expect(res.body).toEqual({
      deviceId: a,
      values: [
        { metric: 'pm25', ts: '2026-03-01T11:10:00.000Z', value: 30, unit: 'µg/m³' },
        { metric: 'battery', ts: '2026-03-01T10:50:00.000Z', value: 88, unit: '%' },
      ],
    });
    // A late reading with an older timestamp does not become "latest".
    await h.store.write([
      {
        deviceId: a,
        kind: 'air-quality-station',
        district: 'Harbour',
        metric: 'pm25',
        ts: at('2026-03-01T09:00:00Z'),
        value: 1,
      },
    ]);
    const again = await h.api<{ values: Array<{ metric: string; value: number }> }>(
      'GET',
      `/api/devices/${a}/latest`,
      {
        token: h.tokens.viewer,
      },
    );
    expect(again.body.values[0]).toMatchObject({ metric: 'pm25', value: 30 });
  });

  it('answers 404 for an unknown device and an empty list for a silent one', async () => {
    expect((await h.api('GET', '/api/devices/aq-nosuch00/latest', { token: h.tokens.viewer })).status).toBe(
      404,
    );
    const silent = (await h.registry.provision({ kind: 'noise-monitor', district: 'Docks' })).device.id;
    const res = await h.api('GET', `/api/devices/${silent}/latest`, { token: h.tokens.viewer });
    expect(res.body).toEqual({ deviceId: silent, values: [] });
  });
});
