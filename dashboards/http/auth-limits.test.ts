import { describe, expect, it, onTestFinished } from 'vitest';
import { loadConfig } from '../../core/config.ts';
import { startHttpHarness } from './http-test-harness.ts';

interface ErrorBody {
  error: { code: string };
}

async function harness(options: Parameters<typeof startHttpHarness>[0]) {
  const h = await startHttpHarness(options);
  onTestFinished(() => h.close());
  return h;
}

describe('authentication failure limit', () => {
  it('answers 429 API_RATE_LIMITED after the limit of 401s, to valid keys too, until the window ends', async () => {
    const h = await harness({ http: { authFailureLimit: 3, authFailureWindowMs: 60_000 } });
    // Successes are not counted: many valid requests never trip the limit.
    const valid = await Promise.all(
      Array.from({ length: 10 }, () => h.api('GET', '/api/device-kinds', { token: h.tokens.viewer })),
    );
    expect(valid.map((r) => r.status)).toEqual(Array(10).fill(200));
    for (let i = 0; i < 3; i++) {
      const res = await h.api<ErrorBody>('GET', '/api/device-kinds', { token: `cmk_0000_guess${i}` });
      expect(res.status).toBe(401);
    }
    const limited = await h.api<ErrorBody>('GET', '/api/device-kinds', { token: 'cmk_0000_guess4' });
    expect([limited.status, limited.body.error.code]).toEqual([429, 'API_RATE_LIMITED']);
    expect(Number(limited.headers.get('retry-after'))).toBe(60);
    const blockedValid = await h.api<ErrorBody>('GET', '/api/device-kinds', { token: h.tokens.viewer });
    expect(blockedValid.status).toBe(429);
    // Public routes stay open.
    expect((await h.api('GET', '/healthz', { token: null })).status).toBe(200);
    h.clock.advance(60_000);
    expect((await h.api('GET', '/api/device-kinds', { token: h.tokens.viewer })).status).toBe(200);
  });
});

describe('failures counted per presented key as well as per address', () => {
  it('a stale key sent again and again is refused alone; other keys from the same address still work', async () => {
    const h = await harness({ http: { authFailureLimit: 4, authFailureWindowMs: 60_000 } });
    const stale = 'cmk_0000_revokedlongago';
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++)
      statuses.push((await h.api('GET', '/api/device-kinds', { token: stale })).status);
    expect(statuses).toEqual([401, 401, 401, 401, ...Array(16).fill(429)]);
    // One wrong key is one guess: the address is not blocked, valid keys and a first try of another are served.
    expect((await h.api('GET', '/api/device-kinds', { token: h.tokens.viewer })).status).toBe(200);
    expect((await h.api('GET', '/api/device-kinds', { token: 'cmk_0000_other' })).status).toBe(401);
    // A missing key is never blocked as a key; for the address it counts as one wrong key of its own.
    for (let i = 0; i < 5; i++) await h.api('GET', '/api/device-kinds', { token: null });
    expect((await h.api('GET', '/api/device-kinds', { token: h.tokens.viewer })).status).toBe(200);
    // The fourth distinct wrong key (stale, other, none, third) reaches the address's limit.
    expect((await h.api('GET', '/api/device-kinds', { token: 'cmk_0000_third' })).status).toBe(401);
    expect((await h.api('GET', '/api/device-kinds', { token: h.tokens.viewer })).status).toBe(429);
  });
});

describe('trusted proxies', () => {
  const guess = (h: Awaited<ReturnType<typeof harness>>, forwardedFor: string, token: string) =>
    h.api('GET', '/api/device-kinds', { token, headers: { 'x-forwarded-for': forwardedFor } });

  it('behind a listed proxy, the limit counts each client named by X-Forwarded-For', async () => {
    const h = await harness({
      config: { trustedProxies: 'loopback' },
      http: { authFailureLimit: 3, authFailureWindowMs: 60_000 },
    });
    for (let i = 0; i < 3; i++) expect((await guess(h, '203.0.113.5', `cmk_0000_g${i}`)).status).toBe(401);
    expect((await guess(h, '203.0.113.5', h.tokens.viewer)).status).toBe(429);
    // Another client behind the same proxy is not locked out.
    expect((await guess(h, '203.0.113.6', h.tokens.viewer)).status).toBe(200);
    // A forged X-Forwarded-For from the blocked client only appends: the proxy-added hop still counts.
    expect((await guess(h, '198.51.100.1, 203.0.113.5', h.tokens.viewer)).status).toBe(429);
  });

  it('without TRUSTED_PROXIES, X-Forwarded-For is ignored: a client cannot escape the limit by forging it', async () => {
    const h = await harness({ http: { authFailureLimit: 3, authFailureWindowMs: 60_000 } });
    for (let i = 0; i < 3; i++) expect((await guess(h, `203.0.113.${i}`, `cmk_0000_g${i}`)).status).toBe(401);
    expect((await guess(h, '203.0.113.99', h.tokens.viewer)).status).toBe(429);
  });

  it('refuses a malformed TRUSTED_PROXIES at start, naming the key', () => {
    expect(() => loadConfig({ TRUSTED_PROXIES: 'loopback, 10.0.0.0/99' })).toThrow(/TRUSTED_PROXIES/);
  });
});

describe('configured CORS origins and private metrics', () => {
  it('allows the configured origin only, answers preflights, and can require a key for /metrics', async () => {
    const h = await harness({
      config: { corsOrigins: 'https://ops.example' },
      http: { metricsPublic: false },
    });
    const preflight = await h.api('OPTIONS', '/api/devices', {
      token: null,
      headers: { origin: 'https://ops.example', 'access-control-request-method': 'GET' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://ops.example');
    expect(preflight.headers.get('access-control-allow-headers')).toContain('Authorization');
    const other = await h.api('GET', '/api/device-kinds', {
      token: h.tokens.viewer,
      headers: { origin: 'https://evil.example' },
    });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();

    expect((await h.api<ErrorBody>('GET', '/metrics', { token: null })).status).toBe(401);
    expect((await h.api('GET', '/metrics', { token: h.tokens.viewer })).status).toBe(200);
  });
});
