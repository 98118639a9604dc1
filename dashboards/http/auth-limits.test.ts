import { describe, expect, it, onTestFinished } from 'vitest';
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
