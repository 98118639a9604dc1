import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiClient } from '../core/api-client.ts';
import { isCityError } from '../core/errors.ts';
import { silentLogger } from '../core/logger.ts';
import { readingBatchSchema, readingSchema } from '../core/reading-schema.ts';
import { KindCatalogue } from '../devices/kind-catalogue.ts';
import { checkAttributes } from '../devices/registry-schema.ts';
import { DEFAULT_CITY_CENTRE, planCity } from './city-plan.ts';
import { provisionDevices, readCredentialsFile, writeCredentialsFile } from './credentials.ts';
import { formatReport } from './report-format.ts';
import { Simulation } from './simulation.ts';
import { startTestBroker, type TestBroker } from './test-broker.ts';

const catalogue = new KindCatalogue();
const DISTRICTS = ['Old Town', 'Riverside', 'Harbour'];
const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('planCity', () => {
  it('covers every kind and district with attributes the kinds accept', () => {
    const plan = planCity({ devices: 200, districts: DISTRICTS, seed: 9 });
    expect(plan).toHaveLength(200);
    expect(new Set(plan.map((p) => p.kind))).toEqual(new Set(catalogue.list().map((k) => k.id)));
    expect(new Set(plan.map((p) => p.district))).toEqual(new Set(DISTRICTS));
    for (const p of plan) {
      expect(() => checkAttributes(catalogue.get(p.kind)!, p.attributes)).not.toThrow();
      expect(Math.abs(p.location.lat - DEFAULT_CITY_CENTRE.lat)).toBeLessThan(0.06);
      expect(Math.abs(p.location.lon - DEFAULT_CITY_CENTRE.lon)).toBeLessThan(0.1);
      expect(Object.keys(p).sort()).toEqual(['attributes', 'district', 'kind', 'location', 'name']);
    }
    const meters = plan.filter((p) => p.kind === 'electricity-smart-meter').length;
    expect(meters).toBeGreaterThan(plan.filter((p) => p.kind === 'emf-probe').length);
  });

  it('is deterministic for a seed, and every kind is present from 14 devices', () => {
    expect(planCity({ devices: 30, districts: DISTRICTS, seed: 1 })).toEqual(
      planCity({ devices: 30, districts: DISTRICTS, seed: 1 }),
    );
    expect(planCity({ devices: 30, districts: DISTRICTS, seed: 1 })).not.toEqual(
      planCity({ devices: 30, districts: DISTRICTS, seed: 2 }),
    );
    const small = planCity({ devices: catalogue.list().length, districts: ['A'], seed: 1 });
    expect(new Set(small.map((p) => p.kind)).size).toBe(catalogue.list().length);
  });
});

describe('credentials', () => {
  it('round-trips through a private file and reports a bad file with its code', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cm-sim-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'creds.json');
    const creds = [
      { id: 'aq-1', password: 'pw', kind: 'air-quality-station', district: 'A', attributes: {} },
    ];
    writeCredentialsFile(file, creds, 'http://localhost:3000');
    expect(readCredentialsFile(file)).toEqual(creds);
    writeFileSync(file, '{"version":1,"devices":[{"id":"x"}]}');
    expect(() => readCredentialsFile(file)).toThrow(
      expect.objectContaining({ code: 'SIMULATOR_CREDENTIALS_INVALID' }),
    );
    expect(() => readCredentialsFile(join(dir, 'missing.json'))).toThrow(/no such file/);
  });

  it('says the API is unreachable when nothing listens', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const err = await provisionDevices({
      client: new ApiClient({ baseUrl: `http://127.0.0.1:${port}`, token: 't' }),
      plan: planCity({ devices: 1, districts: ['A'], seed: 1 }),
    }).catch((e: unknown) => e);
    expect(isCityError(err) && err.code).toBe('CLI_API_UNREACHABLE');
  });
});

describe('Simulation', () => {
  it('runs a fleet of every kind: valid readings in range, all acknowledged, faults counted', async () => {
    const broker: TestBroker = await startTestBroker();
    cleanups.push(() => broker.close());
    const plan = planCity({ devices: 28, districts: DISTRICTS, seed: 4 });
    const devices = plan.map((p, i) => ({
      id: `sim-${i}`,
      password: 'pw',
      kind: p.kind,
      attributes: p.attributes,
    }));
    const simulation = new Simulation({
      url: broker.url,
      devices,
      logger: silentLogger(),
      ratePerSec: 400,
      minIntervalMs: 20,
      seed: 4,
      timezone: 'Europe/Berlin',
      faults: { malformed: 0.2 },
      connectRatePerSec: 1000,
      progressIntervalMs: 20,
    });
    expect(simulation.targetRatePerSec).toBeGreaterThan(0);
    const everyDevice = broker.waitFor((ms) => {
      const seen = new Set(ms.filter((m) => m.topic.endsWith('/telemetry')).map((m) => m.topic));
      return seen.size === devices.length && ms.length > 200;
    });
    const firstProgress = once(simulation, 'progress');
    await simulation.start();
    await everyDevice;
    const [progress] = await firstProgress;
    expect(progress.devices).toBe(28);
    expect(progress.elapsedMs).toBeGreaterThanOrEqual(0);
    const report = await simulation.stop();
    expect(report.devices).toBe(28);
    expect(report.published).toBeGreaterThan(100);
    expect(report.acknowledged).toBe(report.published);
    expect(report.faults.malformed).toBeGreaterThan(0);
    expect(report.expectedRefusals).toEqual({ INGEST_MALFORMED_JSON: report.faults.malformed });
    let valid = 0;
    let broken = 0;
    for (const m of broker.messages.filter((x) => x.topic.endsWith('/telemetry'))) {
      let json: unknown;
      try {
        json = JSON.parse(m.payload);
      } catch {
        broken++;
        continue;
      }
      // Readings made before a device's first connection arrive as a back-fill batch.
      const readings = Array.isArray(json) ? readingBatchSchema.parse(json) : [readingSchema.parse(json)];
      const kind = catalogue.get(devices[Number(m.topic.split('/')[1]!.slice(4))]!.kind)!;
      for (const reading of readings) {
        for (const metric of kind.metrics) {
          const v = reading.values[metric.name] as number;
          expect(v).toBeGreaterThanOrEqual(metric.min);
          expect(v).toBeLessThanOrEqual(metric.max);
        }
      }
      valid++;
    }
    expect(broken).toBe(report.faults.malformed);
    expect(valid + broken).toBe(report.messages);
    const statuses = broker.messages.filter((m) => m.topic.endsWith('/status'));
    expect(statuses.filter((m) => m.payload === 'offline')).toHaveLength(28);
    expect(formatReport(report)).toMatch(/INGEST_MALFORMED_JSON\s+0 \(faults injected: \d+\)/);
  });
});
