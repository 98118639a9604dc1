import { afterAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '../helpers/temp-dir.ts';
import { freePorts, PlatformProcess } from './platform-process.ts';

/**
 * One platform per DATA_DIR, between real processes: a second one on the same directory (here with
 * another city time zone, which would close the same months differently) refuses to start and names the
 * first; a first one killed with SIGKILL leaves nothing that blocks the next start.
 */
describe('one platform per data directory', () => {
  const dir = makeTempDir('citymetrics-one-instance-');
  const running: PlatformProcess[] = [];
  afterAll(async () => {
    for (const p of running) await p.kill('SIGKILL');
    dir.remove();
  });

  it('refuses a second process, and a SIGKILLed first does not block the next', {
    timeout: 90_000,
  }, async () => {
    const ports = await freePorts();
    const first = new PlatformProcess(dir.path, ports);
    running.push(first);
    await first.start();

    const second = new PlatformProcess(dir.path, await freePorts(), { CITY_TIMEZONE: 'Europe/Paris' });
    running.push(second);
    second.spawn();
    expect(await second.whenExited()).toEqual({ code: 1, signal: null });
    expect(second.output).toContain('PLATFORM_DATA_DIR_IN_USE');
    expect(second.output).toContain(`pid ${first.pid}`);
    expect(second.output).toContain(`DATA_DIR ${dir.path}`);
    expect(second.output).not.toMatch(/^\s+at /m);
    // The first is untouched by the attempt.
    expect((await fetch(`${first.httpUrl}/readyz`)).status).toBe(200);

    expect(await first.kill('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    const next = new PlatformProcess(dir.path, ports);
    running.push(next);
    await next.start();
    expect((await next.api('GET', '/api/devices')).status).toBe(200);
    expect(await next.kill('SIGTERM')).toEqual({ code: 0, signal: null });
  });
});
