import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type RequestHandler } from 'express';
import helmet from 'helmet';
import proxyaddr from 'proxy-addr';
import { trustedProxyEntries } from '../../core/config.ts';
import type { Telemetry } from '../../core/telemetry.ts';
import { attachLiveHub, type LiveHub } from '../live/live-hub.ts';
import { ngsiLdErrors, ngsiLdNotFound } from '../ngsi-ld/problem-details.ts';
import { NGSI_LD_BASE } from '../ngsi-ld/render.ts';
import { ngsiLdRoutes } from '../ngsi-ld/routes.ts';
import { AuthFailureLimiter, createRequireRole } from './auth.ts';
import { bodyGuard } from './body-guard.ts';
import { type AnyRoute, mountRoutes } from './define-route.ts';
import { errorMapper, notFound } from './error-mapper.ts';
import type { HttpDeps, HttpOptions } from './http-deps.ts';
import { buildOpenApiDocument } from './openapi.ts';
import { alertRoutes } from './routes/alerts.ts';
import { cityProfileRoutes } from './routes/city-profile.ts';
import { deviceBulkRoutes } from './routes/device-bulk.ts';
import { deviceConnectionRoutes } from './routes/device-connection.ts';
import { deviceCounterRoutes } from './routes/device-counters.ts';
import { DEVICE_PAYLOAD_PATH, deviceIngestRoutes } from './routes/device-ingest.ts';
import { deviceKindRoutes } from './routes/device-kinds.ts';
import { deviceRoutes } from './routes/devices.ts';
import { districtRoutes } from './routes/districts.ts';
import { healthRoutes } from './routes/health.ts';
import { ingestStatsRoutes } from './routes/ingest-stats.ts';
import { keyRoutes } from './routes/keys.ts';
import { kpiRoutes } from './routes/kpis.ts';
import { manualInputRoutes } from './routes/manual-inputs.ts';
import { reportRoutes } from './routes/reports.ts';
import { rollupRoutes } from './routes/rollups.ts';
import { seriesRoutes } from './routes/series.ts';
import { targetRoutes } from './routes/targets.ts';
import { tileLayoutRoutes } from './routes/tile-layouts.ts';

export const API_VERSION = '0.1.0';
const DEFAULT_PUBLIC_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'public');
// The live page's chart and map libraries, served from the installed packages: the page works offline.
const requireFrom = createRequire(import.meta.url);
const VENDOR_DIRS: Readonly<Record<string, string>> = {
  '/vendor/uplot': dirname(requireFrom.resolve('uplot/dist/uPlot.esm.js')),
  '/vendor/leaflet': dirname(requireFrom.resolve('leaflet/dist/leaflet-src.esm.js')),
};

export interface HttpApp {
  app: express.Express;
  /** Every route served, as declared (the OpenAPI document lists exactly these). */
  routes: readonly AnyRoute[];
  /** Attaches the socket.io live hub (and its client script at /socket.io/socket.io.js) to a server. */
  attachLive(server: Server): LiveHub;
}

/**
 * The REST API, the live page's static files and /healthz, /readyz, /metrics. Opens no port: the caller
 * creates the server, listens, and attaches the live hub to it.
 */
export function buildHttpApp(deps: HttpDeps, options: HttpOptions = {}): HttpApp {
  const log = deps.logger.child({ component: 'http' });
  const limiter = new AuthFailureLimiter({
    limit: options.authFailureLimit ?? 30,
    windowMs: options.authFailureWindowMs ?? 15 * 60_000,
    clock: deps.clock,
  });
  const requireRole = createRequireRole({ apiKeys: deps.apiKeys, limiter, logger: log });

  let document: unknown;
  const routes: AnyRoute[] = [
    ...healthRoutes({
      readiness: deps.readiness,
      telemetry: deps.telemetry,
      metricsAccess: options.metricsPublic === false ? 'viewer' : 'public',
      openApiDocument: () => document,
    }),
    ...deviceKindRoutes(deps),
    ...deviceBulkRoutes({ ...deps, bodyLimitBytes: deps.config.httpBodyLimitBytes }),
    ...deviceRoutes(deps),
    ...deviceConnectionRoutes(deps),
    ...deviceIngestRoutes({ ...deps, limiter }),
    ...districtRoutes(deps),
    ...seriesRoutes({ ...deps, maxBuckets: options.maxSeriesBuckets ?? 10_000 }),
    ...ingestStatsRoutes(deps),
    ...deviceCounterRoutes({ ingest: deps.ingest, registry: deps.registry }),
    ...keyRoutes(deps),
    ...(deps.alerts ? alertRoutes({ alerts: deps.alerts }) : []),
    ...(deps.kpis
      ? [
          ...kpiRoutes({ kpis: deps.kpis }),
          ...manualInputRoutes({ kpis: deps.kpis }),
          ...cityProfileRoutes({ kpis: deps.kpis }),
          ...targetRoutes({ kpis: deps.kpis }),
          ...tileLayoutRoutes({ apiKeys: deps.apiKeys, catalogue: deps.kpis.deps.catalogue }),
          ...rollupRoutes({ kpis: deps.kpis }),
        ]
      : []),
    ...(deps.reports ? reportRoutes({ reports: deps.reports }) : []),
    ...ngsiLdRoutes(deps),
  ];
  // Built once at startup: a schema the generator cannot describe fails here, not on the first request.
  document = buildOpenApiDocument(routes, { cityName: deps.config.cityName, version: API_VERSION });

  const app = express();
  app.disable('x-powered-by');
  // req.ip is the client behind a listed proxy (X-Forwarded-For), the socket's peer otherwise: what the
  // failed-authentication limit counts per address.
  const trust = proxyaddr.compile(trustedProxyEntries(deps.config.trustedProxies));
  app.set('trust proxy', trust);
  app.set('query parser', 'simple'); // flat strings only: no nested objects from `a[b]=c`
  app.use(countRequests(deps.telemetry));
  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: true,
        directives: {
          defaultSrc: ["'self'"],
          // The page's own app.js and the socket.io client served by this server; no inline script.
          scriptSrc: ["'self'"],
          // socket.io connects back to this origin (ws: and polling).
          connectSrc: ["'self'"],
          styleSrc: ["'self'"],
          // blob: for the snapshot's PNG export (SVG drawn onto a canvas from an object URL).
          imgSrc: ["'self'", 'data:', 'blob:'],
          objectSrc: ["'none'"],
          frameAncestors: ["'none'"],
          // Many cities run this on a plain-HTTP intranet first: forcing https would break the page.
          upgradeInsecureRequests: null,
        },
      },
    }),
  );
  app.use(cors(deps.config.corsOrigins));
  app.use('/api', noStore);
  const parseJson = express.json({ limit: deps.config.httpBodyLimitBytes, strict: true });
  app.use(function jsonBody(req, res, next) {
    // Device payloads are read by their routes once the device has authenticated, and decoded byte for
    // byte as MQTT payloads are (repeated keys, depth, MQTT's size limit): not parsed here.
    if (req.method === 'POST' && DEVICE_PAYLOAD_PATH.test(req.path)) return next();
    parseJson(req, res, next);
  });
  app.use(bodyGuard);
  const router = express.Router();
  mountRoutes(router, routes, { requireRole });
  app.use(router);
  // NGSI-LD clients read problem details, not the API's error body: unknown paths and failures there too.
  app.use(NGSI_LD_BASE, ngsiLdNotFound, ngsiLdErrors(log));
  for (const [prefix, dir] of Object.entries(VENDOR_DIRS))
    app.use(prefix, express.static(dir, { index: false, dotfiles: 'ignore', maxAge: '1d' }));
  app.use(
    express.static(options.publicDir ?? DEFAULT_PUBLIC_DIR, { index: 'index.html', dotfiles: 'ignore' }),
  );
  app.use(notFound);
  app.use(errorMapper(log));

  return {
    app,
    routes,
    attachLive: (server) =>
      attachLiveHub({
        server,
        config: deps.config,
        apiKeys: deps.apiKeys,
        events: deps.events,
        ingest: deps.ingest,
        kinds: deps.kinds,
        registry: deps.registry,
        limiter,
        clientAddress: (req) => proxyaddr(req, trust),
        logger: deps.logger,
        clock: deps.clock,
        ...(deps.alerts ? { alerts: deps.alerts } : {}),
      }),
  };
}

function countRequests(telemetry: Telemetry): RequestHandler {
  return function countRequest(_req, res, next) {
    res.on('finish', () => {
      const route = typeof res.locals.route === 'string' ? res.locals.route : 'static';
      telemetry.httpRequests.inc({ route, status: String(res.statusCode) });
    });
    next();
  };
}

/**
 * API answers are never cached by browsers or proxies: some carry secrets shown once (a device password,
 * a new API key), and all are data that a shared cache must not hand to the next user.
 */
const noStore: RequestHandler = function noStore(_req, res, next) {
  res.set('Cache-Control', 'no-store');
  next();
};

/** CORS for the configured origins only; with none configured the API is same-origin. */
export function cors(corsOrigins: string): RequestHandler {
  const allowed = new Set(
    corsOrigins
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean),
  );
  return function corsHeaders(req, res, next) {
    const origin = req.get('origin');
    if (allowed.size === 0 || origin === undefined || !(allowed.has(origin) || allowed.has('*')))
      return next();
    res.vary('Origin');
    res.set('Access-Control-Allow-Origin', origin);
    if (req.method === 'OPTIONS' && req.get('access-control-request-method')) {
      res.set('Access-Control-Allow-Methods', 'GET, POST, PUT, PATCH, DELETE');
      res.set('Access-Control-Allow-Headers', 'Authorization, Content-Type');
      res.set('Access-Control-Max-Age', '600');
      res.status(204).end();
      return;
    }
    next();
  };
}
