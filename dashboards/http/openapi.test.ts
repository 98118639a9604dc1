import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HttpHarness, startHttpHarness } from './http-test-harness.ts';

let h: HttpHarness;

beforeAll(async () => {
  h = await startHttpHarness();
});
afterAll(async () => {
  await h.close();
});

describe('OpenAPI document', () => {
  it('lists every route with its parameters and the bearer scheme', async () => {
    const res = await h.api<{
      openapi: string;
      paths: Record<string, Record<string, { security: unknown[]; parameters?: Array<{ name: string }> }>>;
      components: { securitySchemes: Record<string, { type: string; scheme: string }> };
    }>('GET', '/api/openapi.json', { token: null });
    expect(res.body.openapi).toBe('3.1.0');
    expect(res.body.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(res.body.components.securitySchemes.deviceBasic).toMatchObject({ type: 'http', scheme: 'basic' });
    for (const route of h.http.routes) {
      const path = route.path.replace(/:([a-z]+)/g, '{$1}');
      const op = res.body.paths[path]?.[route.method];
      expect([route.method, path, op !== undefined]).toEqual([route.method, path, true]);
      const security = { public: [], device: [{ deviceBasic: [] }] }[route.access as string];
      expect(op!.security).toEqual(security ?? [{ bearerAuth: [] }]);
    }
    const expected = [
      'get /api/device-kinds',
      'post /api/devices',
      'post /api/devices/bulk',
      'get /api/devices',
      'get /api/devices/{id}',
      'patch /api/devices/{id}',
      'delete /api/devices/{id}',
      'post /api/devices/{id}/decommission',
      'get /api/devices/{id}/life',
      'post /api/devices/{id}/rotate-password',
      'post /api/devices/{id}/disable',
      'post /api/devices/{id}/enable',
      'get /api/devices/{id}/latest',
      'get /api/devices/{id}/connection',
      'get /api/devices/{id}/counters',
      'post /api/devices/{id}/telemetry',
      'post /api/devices/{id}/events',
      'get /api/series',
      'get /api/ingest/stats',
      'get /api/districts',
      'post /api/keys',
      'get /api/keys',
      'delete /api/keys/{id}',
      'get /healthz',
      'get /readyz',
      'get /metrics',
      'get /metrics/devices',
      'get /api/openapi.json',
      'get /ngsi-ld/v1/entities',
      'get /ngsi-ld/v1/entities/{id}',
      'get /ngsi-ld/v1/jsonldContexts/citymetrics.jsonld',
    ];
    const documented = Object.entries(res.body.paths).flatMap(([p, item]) =>
      Object.keys(item).map((m) => `${m} ${p}`),
    );
    expect(documented.sort()).toEqual(expected.sort());
    const series = res.body.paths['/api/series']!.get!;
    expect(series.parameters?.map((p) => p.name)).toEqual([
      'device',
      'district',
      'city',
      'kind',
      'metric',
      'from',
      'to',
      'step',
    ]);
  });
});
