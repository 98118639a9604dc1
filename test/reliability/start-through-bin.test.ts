import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, type TempDir } from '../helpers/temp-dir.ts';
import { freePorts, PlatformProcess, ROOT } from './platform-process.ts';
import { readStored } from './stored-readings.ts';

/**
 * The ways production starts the platform, each stopped with SIGTERM sent to the pid that was started (what
 * a supervisor or `docker stop` signals): the bin (compiled build, and its tsx fallback on a checkout
 * without one) and the image's ENTRYPOINT + CMD run as a command line. Each must run the graceful stop:
 * exit 0, "stopped cleanly", the acknowledged reading in the series store.
 */

/** ENTRYPOINT and CMD of the Dockerfile, in exec form, joined: what the container runs as PID 1. */
function dockerCommand(): string[] {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const exec = (instruction: string): string[] => {
    const line = text.split('\n').find((l) => l.startsWith(`${instruction} [`));
    if (line === undefined) throw new Error(`Dockerfile has no ${instruction} in exec form`);
    return JSON.parse(line.slice(instruction.length)) as string[];
  };
  return [...exec('ENTRYPOINT'), ...exec('CMD')];
}

async function stopsGracefully(platform: PlatformProcess, dir: TempDir): Promise<void> {
  await platform.start();
  // The static files are found from wherever the code runs (dist/ copies them).
  for (const path of ['/', '/vendor/uplot/uPlot.esm.js']) {
    const res = await fetch(`${platform.httpUrl}${path}`);
    await res.arrayBuffer();
    expect(res.status).toBe(200);
  }
  const kpis = await platform.api<unknown[]>('GET', '/api/kpis');
  expect(kpis.status).toBe(200);
  const device = await platform.api<{ id: string; password: string }>('POST', '/api/devices', {
    installedAt: new Date(Date.now() - 7 * 86_400_000).toISOString(), // readings go back as far as the late window
    kind: 'noise-monitor',
    district: 'Old Town',
  });
  expect(device.status).toBe(201);
  const ts = Math.floor(Date.now() / 60_000) * 60_000 - 60_000;
  const client = await mqtt.connectAsync(platform.mqttUrl, {
    username: device.body.id,
    password: device.body.password,
    reconnectPeriod: 0,
  });
  // QoS 1: resolves on PUBACK, after the durable log committed the reading.
  await client.publishAsync(
    `devices/${device.body.id}/telemetry`,
    JSON.stringify({ ts, values: { laeq: 61.5 } }),
    { qos: 1 },
  );
  await client.endAsync();

  const exit = await platform.kill('SIGTERM');
  expect(exit).toEqual({ code: 0, signal: null });
  expect(platform.output).toContain('stopped cleanly');
  expect(readStored(dir.path, 'laeq').points.get(device.body.id)).toEqual([ts]);
}

describe('production start-up stops gracefully on SIGTERM', () => {
  const dirs: TempDir[] = [];
  const running: PlatformProcess[] = [];
  const fallback = join(ROOT, 'test-artifacts', `bin-without-build-${process.pid}`);
  const run = async (command: string[]) => {
    const dir = makeTempDir('citymetrics-bin-');
    dirs.push(dir);
    const platform = new PlatformProcess(dir.path, await freePorts(), { LOG_LEVEL: 'info' }, { command });
    running.push(platform);
    await stopsGracefully(platform, dir);
  };

  beforeAll(() => {
    // dist/ is built once for the slow tier, before any file runs (test/helpers/build-once.ts).
    expect(existsSync(join(ROOT, 'dist', 'cli.js'))).toBe(true);
    // A checkout without dist/: the bin next to cli.ts (a link, so every import resolves in the repository).
    mkdirSync(join(fallback, 'bin'), { recursive: true });
    copyFileSync(join(ROOT, 'bin', 'citymetrics.mjs'), join(fallback, 'bin', 'citymetrics.mjs'));
    symlinkSync(join(ROOT, 'cli.ts'), join(fallback, 'cli.ts'));
  });
  afterAll(async () => {
    // A failed assertion leaves its platform running: a vitest worker may end without 'exit' handlers.
    for (const p of running) await p.kill('SIGKILL');
    for (const dir of dirs) dir.remove();
    rmSync(fallback, { recursive: true, force: true });
  });

  it('through the bin, running the compiled build', { timeout: 60_000 }, async () => {
    await run([join(ROOT, 'bin', 'citymetrics.mjs'), 'start']);
  });

  it('through the bin on a checkout without a build (tsx)', { timeout: 60_000 }, async () => {
    await run([join(fallback, 'bin', 'citymetrics.mjs'), 'start']);
  });

  it("through the Dockerfile's ENTRYPOINT and CMD", { timeout: 60_000 }, async () => {
    const command = dockerCommand();
    expect(command[0]).toBe('node');
    // WORKDIR /app is the repository root here: the image holds dist/ and package.json there.
    await run(command.slice(1));
  });
});
