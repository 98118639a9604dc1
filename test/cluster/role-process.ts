import { join } from 'node:path';
import { makeTempDir, type TempDir } from '../helpers/temp-dir.ts';
import { freePorts, PlatformProcess, ROOT } from '../reliability/platform-process.ts';

/** A cluster role as a real child process: `node --import tsx cli.ts start --roles <roles>`. */
export interface RoleProcess {
  proc: PlatformProcess;
  dir: TempDir;
  readyz(): Promise<{ status: number; body: ReadyBody }>;
  /** The value of one series of the Prometheus exposition on this node's /metrics (0 when absent). */
  metric(name: string, labels?: string): Promise<number>;
}

export interface ReadyBody {
  ready: boolean;
  roles: string[];
  checks: Record<string, boolean>;
  failing: string[];
  kpi?: { state: 'leader' | 'standby' | 'stopped' };
  liveRelay?: { relayed: number; dropped: number; pending: number; slow: boolean };
}

/** `env.ADMIN_TOKEN`, when given, is the token the process is started with and calls its API with. */
export async function roleProcess(roles: string, env: Record<string, string>): Promise<RoleProcess> {
  const dir = makeTempDir('cm-role-');
  const proc = new PlatformProcess(dir.path, await freePorts(), env, {
    command: ['--import', 'tsx', join(ROOT, 'cli.ts'), 'start', '--roles', roles],
    ...(env.ADMIN_TOKEN !== undefined ? { adminToken: env.ADMIN_TOKEN } : {}),
  });
  return {
    proc,
    dir,
    async readyz() {
      const res = await fetch(`${proc.httpUrl}/readyz`, { signal: AbortSignal.timeout(5_000) });
      return { status: res.status, body: (await res.json()) as ReadyBody };
    },
    async metric(name, labels = '') {
      const text = await (await fetch(`${proc.httpUrl}/metrics`)).text();
      const line = text
        .split('\n')
        .find((l) => l.startsWith(`${name}${labels} `) || l.startsWith(`${name}${labels}{`));
      return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
    },
  };
}

/** Polls until `check` holds; throws naming what it waited for after `timeoutMs` (a bound, not a measure). */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let ok = false;
    try {
      ok = await check();
    } catch {
      ok = false;
    }
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
