import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The runner itself, in a child process: a scenario that throws must end the run, never leave it waiting on
// the load generator or the system under test (a CI run would hang until its time limit).

const RUN = fileURLToPath(new URL('./run.ts', import.meta.url));
/** A guard against the hang, not a speed figure: a healthy failing run ends in a few seconds. */
const HANG_MS = 60_000;

describe('bench run with a failing scenario', () => {
  it(
    'exits non-zero naming the scenario, its child processes gone',
    async () => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', RUN, '--quick', '--only', 'aedes', '--qos', '0'],
        {
          env: { ...process.env, BENCH_FAIL_TARGET: 'aedes' },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => {
        stderr += c.toString('utf8');
      });
      child.stdout.resume();
      // 'close' comes once every holder of the pipes has gone: the forked children inherit them.
      const ended = await new Promise<{ code: number | null; hung: boolean }>((resolve) => {
        const guard = setTimeout(() => {
          child.kill('SIGKILL');
          resolve({ code: null, hung: true });
        }, HANG_MS);
        child.once('close', (code) => {
          clearTimeout(guard);
          resolve({ code, hung: false });
        });
      });
      expect(ended).toEqual({ code: 1, hung: false });
      expect(stderr).toContain('scenario aedes QoS 0 failed');
      expect(stderr).toContain('aedes refused to start (BENCH_FAIL_TARGET)');
    },
    HANG_MS + 10_000,
  );
});
