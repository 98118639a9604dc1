import { request } from 'node:http';
import type { Router } from 'express';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES, type Role } from '../../dashboards/http/roles.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/platform-harness.ts';

/**
 * Every HTTP route and the live socket × every role (none, viewer, operator, analyst, admin), on the whole
 * platform as `npm start` composes it. The route list is the platform's own route table, checked against
 * what express actually mounted, so a route added later is covered (or fails this test) automatically.
 */
type Who = 'none' | Role;
const WHO: readonly Who[] = ['none', ...ROLES];
/** The only things readable without a key, on purpose (health probes, Prometheus, the API description). */
const DELIBERATELY_PUBLIC = new Set([
  'GET /healthz',
  'GET /readyz',
  'GET /metrics',
  'GET /api/openapi.json',
  // JSON-LD processors fetch a context without credentials; it holds no data.
  'GET /ngsi-ld/v1/jsonldContexts/citymetrics.jsonld',
]);

const rank = (who: Who) => (who === 'none' ? -1 : ROLES.indexOf(who));

/**
 * One HTTP request from a given loopback address. The matrix makes far more failed authentications than
 * the per-address limit allows (30 per 15 min, then 429 for everyone at that address): each keyless
 * request comes from an address of its own so the limiter stays out of the matrix.
 */
let nextAddress = 0;
function send(
  url: string,
  method: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number }> {
  const n = ++nextAddress;
  const localAddress = `127.0.${1 + Math.floor(n / 250)}.${2 + (n % 250)}`;
  return new Promise((resolve, reject) => {
    const length = body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) };
    const req = request(url, { method, headers: { ...headers, ...length }, localAddress }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Routes express mounted (method + path), walking nested routers. */
function mountedRoutes(router: Router): string[] {
  const out: string[] = [];
  const walk = (
    stack: Array<{
      route?: { path: string; methods: Record<string, boolean> };
      handle?: { stack?: unknown[] };
    }>,
  ) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const m of Object.keys(layer.route.methods)) out.push(`${m.toUpperCase()} ${layer.route.path}`);
      } else if (Array.isArray(layer.handle?.stack)) walk(layer.handle.stack as never);
    }
  };
  walk((router as unknown as { stack: never[] }).stack);
  return out;
}

describe('access matrix: every route and the live socket × every role', () => {
  let t: TestPlatform;
  const tokens = {} as Record<Role, string>;
  let deviceId: string;
  beforeAll(async () => {
    t = await startTestPlatform();
    for (const role of ROLES) {
      const res = await t.api<{ key: string }>('POST', '/api/keys', { name: `matrix-${role}`, role });
      tokens[role] = res.body.key;
    }
    deviceId = (await t.provision('noise-monitor', 'Old Town')).id;
  });
  afterAll(async () => {
    await t.close();
  });

  it('express mounts exactly the declared routes', () => {
    const declared = t.platform.routes.map((r) => `${r.method.toUpperCase()} ${r.path}`).sort();
    const mounted = mountedRoutes((t.platform.app as unknown as { router: Router }).router).sort();
    expect(mounted).toEqual(declared);
  });

  it('nothing is public unless deliberately so', () => {
    const publicRoutes = t.platform.routes
      .filter((r) => r.access === 'public')
      .map((r) => `${r.method.toUpperCase()} ${r.path}`);
    for (const r of publicRoutes) expect(DELIBERATELY_PUBLIC.has(r), r).toBe(true);
  });

  it('each route answers 401 without a key, 403 below its role, and lets its role and above through', async () => {
    let checked = 0;
    for (const route of t.platform.routes) {
      // Placeholders: an existing device, keys and other ids that do not exist (nothing is destroyed).
      const path = route.path
        .replace(/:id\b/, route.path.startsWith('/api/devices') ? deviceId : 'nosuchid')
        .replace(/:[A-Za-z_]+/g, 'x');
      for (const who of WHO) {
        const res = await send(
          `${t.addresses.httpUrl}${path}`,
          route.method.toUpperCase(),
          {
            ...(who === 'none' ? {} : { authorization: `Bearer ${tokens[who]}` }),
            ...(route.method === 'get' ? {} : { 'content-type': 'application/json' }),
          },
          // An empty object: enough to reach the role check, invalid for every mutating route.
          route.method === 'get' ? undefined : '{}',
        );
        const needed = route.access === 'public' ? -2 : ROLES.indexOf(route.access as Role);
        const through = `through(${res.status})`;
        // Device routes take only the device's own credentials: no key of any role gets through.
        const expected =
          route.access === 'device'
            ? 401
            : needed === -2
              ? through
              : who === 'none'
                ? 401
                : rank(who) < needed
                  ? 403
                  : through;
        const got = [401, 403, 429].includes(res.status) ? res.status : `through(${res.status})`;
        expect(`${route.method.toUpperCase()} ${route.path} as ${who}: ${got}`).toBe(
          `${route.method.toUpperCase()} ${route.path} as ${who}: ${expected}`,
        );
        // "Through" means the request reached the route: never a 5xx for any role.
        expect(res.status, `${route.path} as ${who}`).toBeLessThan(500);
        checked++;
      }
    }
    expect(checked).toBe(t.platform.routes.length * WHO.length);
  });

  it('static files and unknown paths hold no data without a key', async () => {
    for (const path of ['/', '/index.html', '/api/nothing-here', '/api/devices/../keys']) {
      const res = await fetch(`${t.addresses.httpUrl}${path}`);
      const text = await res.text();
      expect(text).not.toContain(deviceId);
      expect(text).not.toMatch(/"key"\s*:/);
    }
  });

  it.each(WHO)('live socket as %s', async (who) => {
    const socket = io(t.addresses.httpUrl, {
      auth: who === 'none' ? {} : { token: tokens[who] },
      transports: ['websocket'],
      reconnection: false,
    });
    try {
      const outcome = await new Promise<{ hello?: { role: string }; error?: { data?: { code: string } } }>(
        (resolve) => {
          socket.once('hello', (hello: { role: string }) => resolve({ hello }));
          socket.once('connect_error', (error: Error & { data?: { code: string } }) => resolve({ error }));
        },
      );
      if (who === 'none') {
        expect(outcome.error?.data?.code).toBe('API_UNAUTHENTICATED');
      } else {
        // Every role may watch the live page; it is told its role (the page hides what it may not do).
        expect(outcome.hello?.role).toBe(who);
        // Client → server events are not part of the protocol: an unknown one changes nothing, the socket stays.
        socket.emit('provision', { kind: 'noise-monitor', district: 'x' });
        const stats = await new Promise<unknown>((resolve) => socket.once('stats', resolve));
        expect(stats).toBeTruthy();
        expect(socket.connected).toBe(true);
      }
    } finally {
      socket.disconnect();
    }
  });
});
