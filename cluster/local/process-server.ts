import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';

/**
 * Starts and stops a real server process (nats-server, postgres, haproxy, a citymetrics role; influxd in
 * tests) on 127.0.0.1, on free ports, with its data in a directory its caller owns: the local cluster and
 * the tests that need real servers. Every start is bounded in time, and every child is killed when this
 * process exits, even after a failed assertion or a crash, so none is left holding a port or a data dir.
 */

const READY_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;
const READY_POLL_MS = 20;

const children = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers must be synchronous: a kill is. A server left behind would hold its port and data dir.
  process.on('exit', () => {
    for (const child of children) child.kill('SIGKILL');
  });
}

/** A port the OS reports free right now (another process may take it before we bind: good enough for tests). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface ProcessServerSpec {
  name: string;
  command: string;
  args: string[];
  /** GET this URL until it answers 2xx: the server is ready. */
  readyUrl?: string;
  /** Or ask this until it resolves true (servers without HTTP, such as PostgreSQL). */
  ready?: () => Promise<boolean>;
  /** Run as this user and group (a root process starting a server that refuses root). */
  uid?: number;
  gid?: number;
  /** Extra environment (added to this process's own). */
  env?: Record<string, string>;
  /** Where to append everything it prints; the last 4 kB are kept in memory in any case. */
  logFile?: string;
  /** How long it may take to become ready (default 15 s). */
  readyTimeoutMs?: number;
}

/** One server process that can be stopped and started again on the same ports and data (outage tests). */
export class ProcessServer {
  private child: ChildProcess | null = null;
  private output = '';

  constructor(private readonly spec: ProcessServerSpec) {
    installExitHook();
  }

  get running(): boolean {
    return this.child !== null;
  }

  async start(): Promise<void> {
    if (this.child !== null) return;
    const { uid, gid } = this.spec;
    const child = spawn(this.spec.command, this.spec.args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(this.spec.env !== undefined ? { env: { ...process.env, ...this.spec.env } } : {}),
      ...(uid !== undefined ? { uid } : {}),
      ...(gid !== undefined ? { gid } : {}),
    });
    this.child = child;
    children.add(child);
    const log: WriteStream | null =
      this.spec.logFile === undefined ? null : createWriteStream(this.spec.logFile, { flags: 'a' });
    const keep = (chunk: Buffer) => {
      // Only the tail is kept, for the error message when the server does not come up.
      this.output = (this.output + chunk.toString('utf8')).slice(-4_000);
      log?.write(chunk);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    let exited = false;
    child.once('exit', () => {
      exited = true;
      log?.end();
      children.delete(child);
      if (this.child === child) this.child = null;
    });
    const deadline = Date.now() + (this.spec.readyTimeoutMs ?? READY_TIMEOUT_MS);
    while (Date.now() < deadline) {
      if (exited) break;
      if (await this.answers()) return;
      await new Promise((r) => setTimeout(r, READY_POLL_MS));
    }
    await this.stop();
    throw new Error(`${this.spec.name} did not become ready:\n${this.output}`);
  }

  /** The tail of what it printed (for an error message). */
  get lastOutput(): string {
    return this.output;
  }

  /** The process id while it runs (a test may want to name it), else null. */
  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /**
   * SIGTERM (or `signal`), then SIGKILL if it has not exited in time. Resolves once the process is gone.
   * `SIGKILL` is the crash of a machine's process: nothing flushed, nothing said to its peers.
   */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (child === null) return;
    this.child = null;
    if (child.exitCode !== null || child.signalCode !== null) {
      children.delete(child);
      return;
    }
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await gone;
    clearTimeout(timer);
    children.delete(child);
  }

  private async answers(): Promise<boolean> {
    if (this.spec.ready !== undefined) return this.spec.ready().catch(() => false);
    if (this.spec.readyUrl === undefined) throw new Error(`${this.spec.name}: no readiness probe`);
    try {
      const res = await fetch(this.spec.readyUrl, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      return res.ok;
    } catch {
      return false;
    }
  }
}
