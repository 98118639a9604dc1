import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../helpers/platform-harness.ts';
import { zipOf } from '../helpers/zip-bomb.ts';

/**
 * HTTP hardening of the platform as composed: security headers on pages, API answers and errors; API
 * answers never cached; failed authentications limited per address (not for everyone); CORS only for
 * the configured origins. (Body size limits are in the bad-input corpus: 413 API_BODY_TOO_LARGE.)
 */
function get(
  url: string,
  headers: Record<string, string>,
  localAddress = '127.0.0.1',
  method = 'GET',
): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, localAddress }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('HTTP hardening', () => {
  let t: TestPlatform;
  const ORIGIN = 'https://dashboard.city.example';
  beforeAll(async () => {
    t = await startTestPlatform({ corsOrigins: ORIGIN });
  });
  afterAll(async () => {
    await t.close();
  });

  it.each([
    ['the live page', '/', 200],
    ['an API answer', '/api/devices', 200],
    ['an API error', '/api/devices/nobody', 404],
    ['an unknown path', '/nothing', 404],
  ])('security headers on %s', async (_what, path, status) => {
    const res = await get(`${t.addresses.httpUrl}${path}`, { authorization: `Bearer ${t.adminToken}` });
    expect(res.status).toBe(status);
    const h = res.headers;
    expect(h['content-security-policy']).toContain("default-src 'self'");
    expect(h['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(h['content-security-policy']).toContain("object-src 'none'");
    expect(h['x-content-type-options']).toBe('nosniff');
    expect(h['x-frame-options']).toBe('SAMEORIGIN');
    expect(h['referrer-policy']).toBe('no-referrer');
    expect(h['cross-origin-opener-policy']).toBe('same-origin');
    expect(h['x-powered-by']).toBeUndefined();
    if (path.startsWith('/api')) expect(h['cache-control']).toBe('no-store');
  });

  it('failed authentications are limited per address: 429 with Retry-After, valid keys included; other addresses unaffected', async () => {
    const url = `${t.addresses.httpUrl}/api/devices`;
    const attacker = '127.0.0.9';
    let firstLimited = -1;
    for (let i = 0; i < 40 && firstLimited < 0; i++) {
      const res = await get(url, { authorization: `Bearer cmk_guess${i}_xxxxxxxxxxxxxxxx` }, attacker);
      if (res.status === 429) firstLimited = i;
      else expect(res.status).toBe(401);
    }
    expect(firstLimited).toBe(30);
    const withValidKey = await get(url, { authorization: `Bearer ${t.adminToken}` }, attacker);
    expect(withValidKey.status).toBe(429);
    expect(Number(withValidKey.headers['retry-after'])).toBeGreaterThan(0);
    // Everyone else is still served.
    expect((await get(url, { authorization: `Bearer ${t.adminToken}` }, '127.0.0.10')).status).toBe(200);
    const metrics = await (await fetch(`${t.addresses.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/citymetrics_http_requests_total\{route="\/api\/devices",status="429"\} [1-9]/);
  });

  it('an XLSX zip bomb from an analyst is refused by its unzipped size; devices are acknowledged meanwhile', async () => {
    const analyst = await t.platform.apiKeys.create({ role: 'analyst', name: 'bomb' });
    const bomb = await zipOf([{ name: 'xl/worksheets/sheet1.xml', bytes: 200 * 1024 * 1024 }]);
    const dev = await t.provision('noise-monitor', 'Old Town');
    const device = await t.connect(dev.id, dev.password);
    const [res] = await Promise.all([
      fetch(`${t.addresses.httpUrl}/api/manual-inputs/import`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${analyst.token}`,
          'content-type': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
        },
        body: new Uint8Array(bomb),
      }),
      device.publishAsync(
        `devices/${dev.id}/telemetry`,
        JSON.stringify({ ts: Date.now() - 1_000, values: { laeq: 50 } }),
        {
          qos: 1,
        },
      ),
    ]);
    const body = (await res.json()) as {
      error: { code: string; details: { errors: Array<{ code: string }> } };
    };
    expect(res.status).toBe(400);
    expect(body.error.code).toBe('METRICS_IMPORT_INVALID');
    expect(body.error.details.errors.map((e) => e.code)).toEqual(['FILE_TOO_LARGE']);
    await device.endAsync();
  });

  it('CORS: the configured origin only', async () => {
    const url = `${t.addresses.httpUrl}/api/devices`;
    const auth = { authorization: `Bearer ${t.adminToken}` };
    const allowed = await get(url, { ...auth, origin: ORIGIN });
    expect(allowed.headers['access-control-allow-origin']).toBe(ORIGIN);
    const other = await get(url, { ...auth, origin: 'https://evil.example' });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await get(
      url,
      { origin: ORIGIN, 'access-control-request-method': 'POST' },
      '127.0.0.1',
      'OPTIONS',
    );
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-headers']).toContain('Authorization');
    const foreignPreflight = await get(
      url,
      { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
      '127.0.0.1',
      'OPTIONS',
    );
    expect(foreignPreflight.headers['access-control-allow-origin']).toBeUndefined();
  });
});
