import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { type HttpHarness, startHttpHarness } from './http-test-harness.ts';
import { ROLES, type Role } from './roles.ts';

interface ErrorBody {
  error: { code: string; message: string; field?: string; details?: Array<{ in: string; path: string }> };
}
interface DeviceBody {
  id: string;
  kind: string;
  district: string;
  name: string;
  status: string;
  online: boolean;
  lastSeenAt: string | null;
  createdAt: string;
  attributes: Record<string, unknown>;
  password?: string;
}

let h: HttpHarness;
let deviceId: string;

beforeAll(async () => {
  h = await startHttpHarness({ http: { authFailureLimit: 10_000 } });
  const { device } = await h.registry.provision({ kind: 'air-quality-station', district: 'Harbour' });
  deviceId = device.id;
});
afterAll(async () => {
  await h.close();
});

describe('authentication and roles', () => {
  const below = (role: Role): Role[] => ROLES.slice(0, ROLES.indexOf(role));
  const sampleQuery: Record<string, string> = {
    '/api/series': '?city&metric=pm25&from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&step=hour',
    '/ngsi-ld/v1/entities': '?type=AirQualityObserved',
  };
  // The device has sent nothing: its NGSI-LD entity does not exist yet, and the route says so.
  const okStatus: Record<string, number> = { '/ngsi-ld/v1/entities/:id': 404 };
  // NGSI-LD routes answer problem details, with the catalogue code as the member `code`.
  const codeOf = (body: ErrorBody | { code?: string }) => ('error' in body ? body.error.code : body.code);

  it('refuses every protected route without a key, with a bad key, and below its role', async () => {
    // Device routes take the device's own credentials, not keys (test/e2e/http-ingest.test.ts).
    const protectedRoutes = h.http.routes.filter((r) => r.access !== 'public' && r.access !== 'device');
    expect(protectedRoutes.length).toBeGreaterThanOrEqual(14);
    let checked = 0;
    for (const route of protectedRoutes) {
      const id = route.path.startsWith('/api/keys')
        ? 'nosuchkey'
        : route.path.startsWith('/ngsi-ld')
          ? `urn:ngsi-ld:AirQualityObserved:${deviceId}`
          : deviceId;
      const path = route.path.replace(':id', id) + (sampleQuery[route.path] ?? '');
      const method = route.method.toUpperCase();
      const none = await h.api<ErrorBody>(method, path, { token: null });
      expect([route.path, none.status, codeOf(none.body)]).toEqual([route.path, 401, 'API_UNAUTHENTICATED']);
      expect(none.headers.get('www-authenticate')).toContain('Bearer');
      const bad = await h.api<ErrorBody>(method, path, { token: 'cmk_0123456789ab_not-a-real-secret' });
      expect([route.path, bad.status]).toEqual([route.path, 401]);
      for (const role of below(route.access as Role)) {
        const res = await h.api<ErrorBody>(method, path, { token: h.tokens[role] });
        expect([route.path, role, res.status, codeOf(res.body)]).toEqual([
          route.path,
          role,
          403,
          'API_FORBIDDEN',
        ]);
      }
      // Read-only routes are also tried with their own role: allowed (not 401/403).
      if (route.method === 'get') {
        const ok = await h.api(method, path, { token: h.tokens[route.access as Role] });
        expect([route.path, ok.status]).toEqual([route.path, okStatus[route.path] ?? 200]);
      }
      checked++;
    }
    expect(checked).toBe(protectedRoutes.length);
  });

  it('keeps public routes public', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics', '/api/openapi.json']) {
      expect([path, (await h.api('GET', path, { token: null })).status]).toEqual([path, 200]);
    }
  });
});

describe('devices', () => {
  it('provisions with the password shown once, and the password works', async () => {
    const res = await h.api<DeviceBody>('POST', '/api/devices', {
      body: {
        kind: 'noise-monitor',
        district: 'Old Town',
        name: 'Market square',
        location: { lat: 48.1, lon: 11.5 },
      },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      kind: 'noise-monitor',
      district: 'Old Town',
      name: 'Market square',
      status: 'active',
    });
    expect(res.body.password).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(res.body.createdAt).toBe(new Date(h.clock.now()).toISOString());
    expect(await h.registry.verifyCredentials(res.body.id, res.body.password!)).toBe('ok');

    const got = await h.api<DeviceBody>('GET', `/api/devices/${res.body.id}`, { token: h.tokens.viewer });
    expect(got.status).toBe(200);
    expect(got.body).not.toHaveProperty('password');
    expect(got.body).toMatchObject({ online: false, lastSeenAt: null });

    const list = await h.api<{ items: DeviceBody[]; total: number }>(
      'GET',
      '/api/devices?district=Old%20Town',
      {
        token: h.tokens.viewer,
      },
    );
    expect(list.body.total).toBe(1);
    expect(list.body.items.map((d) => d.id)).toEqual([res.body.id]);
    expect(list.body.items[0]).not.toHaveProperty('password');
  });

  it('rotates, disables, enables and patches', async () => {
    const { device, password } = await h.registry.provision({ kind: 'noise-monitor', district: 'Docks' });
    const rotated = await h.api<{ id: string; password: string }>(
      'POST',
      `/api/devices/${device.id}/rotate-password`,
    );
    expect(rotated.status).toBe(200);
    expect(rotated.body.password).not.toBe(password);
    expect(await h.registry.verifyCredentials(device.id, password)).toBe('bad-password');
    expect(await h.registry.verifyCredentials(device.id, rotated.body.password)).toBe('ok');

    expect((await h.api<DeviceBody>('POST', `/api/devices/${device.id}/disable`)).body.status).toBe(
      'disabled',
    );
    expect(await h.registry.verifyCredentials(device.id, rotated.body.password)).toBe('disabled');
    expect((await h.api<DeviceBody>('POST', `/api/devices/${device.id}/enable`)).body.status).toBe('active');

    const patched = await h.api<DeviceBody>('PATCH', `/api/devices/${device.id}`, {
      body: { name: 'Pier 4', attributes: { residentsExposed: 1200 } },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: 'Pier 4', attributes: { residentsExposed: 1200 } });
    expect(h.registry.get(device.id)?.name).toBe('Pier 4');
  });

  it('answers validation errors with codes and fields', async () => {
    const unknownKey = await h.api<ErrorBody>('POST', '/api/devices', {
      body: { kind: 'noise-monitor', district: 'X', colour: 'red' },
    });
    expect(unknownKey.status).toBe(400);
    expect(unknownKey.body.error.code).toBe('API_VALIDATION');
    expect(unknownKey.body.error.details?.[0]).toMatchObject({ in: 'body' });

    const lat = await h.api<ErrorBody>('POST', '/api/devices', {
      body: { kind: 'noise-monitor', district: 'X', location: { lat: 91, lon: 0 } },
    });
    expect([lat.status, lat.body.error.code, lat.body.error.field]).toEqual([
      400,
      'API_VALIDATION',
      'location.lat',
    ]);

    const kind = await h.api<ErrorBody>('POST', '/api/devices', { body: { kind: 'toaster', district: 'X' } });
    expect([kind.status, kind.body.error.code, kind.body.error.field]).toEqual([
      400,
      'DEVICES_UNKNOWN_KIND',
      'kind',
    ]);

    const attr = await h.api<ErrorBody>('POST', '/api/devices', {
      body: { kind: 'noise-monitor', district: 'X', attributes: { residentsExposed: 'many' } },
    });
    expect([attr.status, attr.body.error.field]).toEqual([400, 'attributes.residentsExposed']);

    const limit = await h.api<ErrorBody>('GET', '/api/devices?limit=0', { token: h.tokens.viewer });
    expect([limit.status, limit.body.error.field, limit.body.error.details?.[0]?.in]).toEqual([
      400,
      'limit',
      'query',
    ]);

    const extra = await h.api<ErrorBody>('GET', '/api/devices?colour=red', { token: h.tokens.viewer });
    expect([extra.status, extra.body.error.code]).toEqual([400, 'API_VALIDATION']);

    const empty = await h.api<ErrorBody>('PATCH', `/api/devices/${deviceId}`, { body: {} });
    expect([empty.status, empty.body.error.code]).toEqual([400, 'API_VALIDATION']);

    const badId = await h.api<ErrorBody>('GET', '/api/devices/Not%20An%20Id', { token: h.tokens.viewer });
    expect([badId.status, badId.body.error.field]).toEqual([400, 'id']);
  });

  it('answers unknown devices and routes with JSON 404', async () => {
    const device = await h.api<ErrorBody>('GET', '/api/devices/aq-nosuch00', { token: h.tokens.viewer });
    expect([device.status, device.body.error.code]).toEqual([404, 'DEVICES_NOT_FOUND']);
    const route = await h.api<ErrorBody>('GET', '/api/nothing-here', { token: null });
    expect([route.status, route.body.error.code]).toEqual([404, 'API_NOT_FOUND']);
    const verb = await h.api<ErrorBody>('PUT', '/api/devices', { token: null });
    expect([verb.status, verb.body.error.code]).toEqual([404, 'API_NOT_FOUND']);
  });
});

describe('bodies', () => {
  it('refuses malformed JSON with API_VALIDATION', async () => {
    const res = await h.api<ErrorBody>('POST', '/api/devices', { rawBody: '{"kind": ' });
    expect([res.status, res.body.error.code]).toEqual([400, 'API_VALIDATION']);
  });

  it('refuses a body over the limit with 413 API_BODY_TOO_LARGE', async () => {
    const big = { kind: 'noise-monitor', district: 'X', name: 'n'.repeat(h.config.httpBodyLimitBytes) };
    const res = await h.api<ErrorBody>('POST', '/api/devices', { body: big });
    expect([res.status, res.body.error.code]).toEqual([413, 'API_BODY_TOO_LARGE']);
  });

  it('refuses prototype-pollution keys anywhere in a body', async () => {
    const before = h.registry.count();
    const top = await h.api<ErrorBody>('POST', '/api/devices', {
      rawBody: '{"kind":"noise-monitor","district":"X","__proto__":{"polluted":true}}',
    });
    expect([top.status, top.body.error.code, top.body.error.field]).toEqual([
      400,
      'API_VALIDATION',
      '__proto__',
    ]);
    const nested = await h.api<ErrorBody>('PATCH', `/api/devices/${deviceId}`, {
      rawBody: '{"attributes":{"x":[{"constructor":{"prototype":{"polluted":true}}}]}}',
    });
    expect([nested.status, nested.body.error.field]).toEqual([400, 'attributes.x.0.constructor']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(h.registry.count()).toBe(before);
  });
});

describe('API keys', () => {
  it('creates a key shown once, lists without secrets, revokes at once', async () => {
    const created = await h.api<{ id: string; key: string; role: string }>('POST', '/api/keys', {
      body: { name: 'grafana', role: 'viewer' },
    });
    expect(created.status).toBe(201);
    expect(created.body.key).toMatch(/^cmk_/);
    expect((await h.api('GET', '/api/device-kinds', { token: created.body.key })).status).toBe(200);

    const list = await h.api<{ items: Array<{ id: string }> }>('GET', '/api/keys');
    expect(list.body.items.some((k) => k.id === created.body.id)).toBe(true);
    expect(JSON.stringify(list.body)).not.toContain(created.body.key);

    expect((await h.api('DELETE', `/api/keys/${created.body.id}`)).status).toBe(204);
    const after = await h.api<ErrorBody>('GET', '/api/device-kinds', { token: created.body.key });
    expect([after.status, after.body.error.code]).toEqual([401, 'API_UNAUTHENTICATED']);
    expect((await h.api<ErrorBody>('DELETE', `/api/keys/${created.body.id}`)).status).toBe(404);
  });

  it('validates key input', async () => {
    const res = await h.api<ErrorBody>('POST', '/api/keys', { body: { name: 'x', role: 'root' } });
    expect([res.status, res.body.error.field]).toEqual([400, 'role']);
  });
});

describe('reference data and operations', () => {
  it('lists device kinds with metrics, units, ranges, intervals, events and attributes', async () => {
    const res = await h.api<{ items: Array<Record<string, unknown>> }>('GET', '/api/device-kinds', {
      token: h.tokens.viewer,
    });
    const aq = res.body.items.find((k) => k.id === 'air-quality-station') as {
      intervalSec: number;
      events: string[];
      metrics: Array<{
        name: string;
        unit: string;
        altUnits: Record<string, { factor: number }>;
        min: number;
        max: number;
      }>;
    };
    expect(aq.intervalSec).toBe(60);
    expect(aq.events).toContain('calibration');
    expect(aq.metrics.find((m) => m.name === 'no2')).toMatchObject({
      unit: 'µg/m³',
      min: 0,
      // NO2's molar mass over the molar volume at 20 °C and 101.325 kPa.
      altUnits: { ppb: { factor: expect.closeTo(46.0055 / ((8.314462618 * 293.15) / 101.325), 12) } },
    });
    const noise = res.body.items.find((k) => k.id === 'noise-monitor') as {
      attributes: Record<string, unknown>;
    };
    expect(noise.attributes).toHaveProperty('residentsExposed');
  });

  it('lists districts with device counts', async () => {
    const res = await h.api<{ items: Array<{ name: string; devices: number; online: number }> }>(
      'GET',
      '/api/districts',
      {
        token: h.tokens.viewer,
      },
    );
    expect(res.body.items.find((d) => d.name === 'Harbour')).toEqual({
      name: 'Harbour',
      devices: 1,
      online: 0,
    });
  });

  it('serves the ingest statistics of the real ingest service', async () => {
    const ts = new Date(h.clock.now()).toISOString();
    const good = await h.ingest.submit(
      deviceId,
      'telemetry',
      Buffer.from(JSON.stringify({ ts, values: { pm25: 12 } })),
    );
    const bad = await h.ingest.submit(
      deviceId,
      'telemetry',
      Buffer.from(JSON.stringify({ ts, values: { pm25: -5 } })),
    );
    expect([good.ok, bad.ok]).toEqual([true, false]);
    const res = await h.api<{ accepted: { values: number }; refused: { byReason: Record<string, number> } }>(
      'GET',
      '/api/ingest/stats',
      { token: h.tokens.viewer },
    );
    expect(res.body.accepted.values).toBe(1);
    expect(res.body.refused.byReason).toEqual({ INGEST_OUT_OF_RANGE: 1 });
  });

  it('reports readiness, 503 with the failing checks', async () => {
    expect((await h.api('GET', '/readyz', { token: null })).body).toEqual({
      ready: true,
      checks: { store: true, listening: true },
      failing: [],
    });
    h.setReadiness({ ready: false, checks: { store: false, listening: true } });
    onTestFinished(() => h.setReadiness({ ready: true, checks: { store: true, listening: true } }));
    const res = await h.api<{ failing: string[] }>('GET', '/readyz', { token: null });
    expect([res.status, res.body.failing]).toEqual([503, ['store']]);
    expect((await h.api<{ ok: boolean }>('GET', '/healthz', { token: null })).body).toEqual({ ok: true });
  });

  it('exposes Prometheus metrics with requests counted by route pattern', async () => {
    await h.api('GET', `/api/devices/${deviceId}`, { token: h.tokens.viewer });
    const res = await h.api<string>('GET', '/metrics', { token: null });
    expect(res.headers.get('content-type')).toContain('text/plain');
    expect(res.body).toMatch(
      /citymetrics_http_requests_total\{route="\/api\/devices\/:id",status="200"\} [1-9]/,
    );
    expect(res.body).not.toContain(deviceId);
  });

  it('serves the live page with a CSP that allows only its own scripts, and the socket.io client', async () => {
    const page = await h.api<string>('GET', '/', { token: null });
    expect(page.status).toBe(200);
    expect(page.body).toContain('/socket.io/socket.io.js');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('upgrade-insecure-requests');
    for (const asset of ['/app.js', '/style.css', '/socket.io/socket.io.js']) {
      expect([asset, (await h.api('GET', asset, { token: null })).status]).toEqual([asset, 200]);
    }
  });

  it('sends no CORS headers unless origins are configured', async () => {
    const res = await h.api('GET', '/healthz', { token: null, headers: { origin: 'https://evil.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});
