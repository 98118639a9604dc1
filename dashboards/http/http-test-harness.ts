import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CityCalendar } from '../../core/city-calendar.ts';
import { ManualClock } from '../../core/clock.ts';
import { type ConfigInput, testConfig } from '../../core/config.ts';
import { silentLogger } from '../../core/logger.ts';
import { PlatformEvents } from '../../core/platform-events.ts';
import { isSoundLevelUnit } from '../../core/sound-level.ts';
import { createTelemetry } from '../../core/telemetry.ts';
import { KindCatalogue } from '../../devices/kind-catalogue.ts';
import { DeviceRegistry } from '../../devices/registry.ts';
import { DeviceRateLimiter } from '../../gateway/rate-limiter.ts';
import { IngestService } from '../../ingest/ingest-service.ts';
import { withSoundEnergy } from '../../ingest/store/sound-energy-store.ts';
import { SqliteSeriesStore } from '../../ingest/store/sqlite-series-store.ts';
import { makeTempDir } from '../../test/helpers/temp-dir.ts';
import type { LiveHub } from '../live/live-hub.ts';
import { ApiKeyStore } from './api-key-store.ts';
import { buildHttpApp } from './build-http-app.ts';
import type { HttpOptions, Readiness } from './http-deps.ts';
import type { Role } from './roles.ts';

/**
 * The HTTP app over real parts (registry, SQLite series store, ingest service, key store in a temp dir) on an ephemeral
 * port, for the dashboards tests. Hash costs are lowered: scrypt at its production cost would make each
 * key and device take ~50 ms.
 */

export const T0 = Date.parse('2026-03-02T10:00:00.000Z');

export interface ApiAnswer<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

export async function startHttpHarness(options: { config?: Partial<ConfigInput>; http?: HttpOptions } = {}) {
  const dir = makeTempDir('citymetrics-http-');
  const config = testConfig({
    dataDir: dir.path,
    livePushIntervalMs: 10,
    // Each message commits as it comes: the group commit's timer runs on the manual clock, which does not
    // move while a request waits for its acknowledgement.
    logFlushMaxValues: 1,
    ...options.config,
  });
  const clock = new ManualClock(T0);
  const logger = silentLogger();
  const kinds = new KindCatalogue();
  const registry = DeviceRegistry.open({ dataDir: dir.path, kinds, clock, logger, scryptCost: 1024 });
  const raw = SqliteSeriesStore.open({
    file: dir.file('series.db'),
    calendar: new CityCalendar(config.cityTimezone),
    retention: { rawDays: 35, minuteDays: 14, hourDays: 400, dayDays: 3_660 },
    logger,
    clock,
  });
  // As the platform wires it: sound levels get their energy companion series.
  const store = withSoundEnergy(raw, (kind, metric) =>
    isSoundLevelUnit(kinds.metric(kind, metric)?.unit ?? ''),
  );
  const apiKeys = ApiKeyStore.open({ dataDir: dir.path, clock, logger, hashCost: 1024 });
  const events = new PlatformEvents();
  const telemetry = createTelemetry();
  const ingest = await IngestService.open(
    { config, directory: registry, store, events, telemetry, logger, clock },
    { pruneIntervalMs: 0 },
  );
  let readiness: Readiness = { ready: true, checks: { store: true, listening: true } };
  const http = buildHttpApp(
    {
      config,
      registry,
      kinds,
      store,
      ingest,
      telemetry,
      events,
      apiKeys,
      logger,
      clock,
      readiness: () => readiness,
      deviceIngest: { sink: ingest, rate: new DeviceRateLimiter(config.deviceRateLimitPerSec, clock) },
    },
    options.http,
  );
  const server: Server = await new Promise((resolve, reject) => {
    const s = http.app.listen(0, '127.0.0.1', (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  const live: LiveHub = http.attachLive(server);
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const tokens = {} as Record<Role, string>;
  for (const role of ['viewer', 'operator', 'analyst', 'admin'] as const) {
    tokens[role] = (await apiKeys.create({ name: `${role} key`, role })).token;
  }

  async function api<T = unknown>(
    method: string,
    path: string,
    opts: { body?: unknown; rawBody?: string; token?: string | null; headers?: Record<string, string> } = {},
  ): Promise<ApiAnswer<T>> {
    const token = opts.token === undefined ? tokens.admin : opts.token;
    const headers: Record<string, string> = { ...opts.headers };
    if (token !== null) headers.authorization = `Bearer ${token}`;
    let body: string | undefined = opts.rawBody;
    if (opts.body !== undefined) body = JSON.stringify(opts.body);
    if (body !== undefined) headers['content-type'] ??= 'application/json';
    const res = await fetch(`${url}${path}`, { method, headers, body });
    const text = await res.text();
    const type = res.headers.get('content-type') ?? '';
    return {
      status: res.status,
      headers: res.headers,
      body: (type.includes('json') && text ? JSON.parse(text) : text) as T,
    };
  }

  return {
    config,
    clock,
    dir,
    kinds,
    registry,
    store,
    /** The series store without the sound-energy wrapper: writes as a release before it did. */
    rawStore: raw,
    ingest,
    apiKeys,
    events,
    telemetry,
    http,
    live,
    server,
    url,
    tokens,
    api,
    setReadiness(next: Readiness) {
      readiness = next;
    },
    async close() {
      await live.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await ingest.close();
      await store.close();
      registry.close();
      apiKeys.close();
      dir.remove();
    },
  };
}

export type HttpHarness = Awaited<ReturnType<typeof startHttpHarness>>;
