import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../servers/process-server.ts';

/**
 * The platform as a real child process (`node --import tsx cli.ts start`), for the tests that kill it:
 * SIGKILL mid-stream, SIGTERM with a backlog, a damaged data directory. Ports are fixed per instance so a
 * restart comes back where the devices reconnect to.
 */

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const READY_TIMEOUT_MS = 30_000;
const OUTPUT_LIMIT = 8 * 1024 * 1024;
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

export interface PlatformPorts {
  http: number;
  mqtt: number;
}

export async function freePorts(): Promise<PlatformPorts> {
  return { http: await freePort(), mqtt: await freePort() };
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ProcessOptions {
  /** What follows `node`, run in the repository root. Default: tsx on cli.ts, `start`. */
  command?: string[];
  /**
   * false: no ADMIN_TOKEN, so the platform generates an admin key and prints it; a string: that token (the
   * api nodes of one cluster share one). Default: a token of this process's own.
   */
  adminToken?: boolean | string;
}

/** How production starts the platform: the bin, running the compiled build (the slow tier builds it once). */
export const PRODUCTION_START = [join(ROOT, 'bin', 'citymetrics.mjs'), 'start'];

export class PlatformProcess {
  readonly adminToken: string;
  private child: ChildProcess | null = null;
  private exited: Promise<Exit> = Promise.resolve({ code: null, signal: null });
  /** Everything the processes wrote, stdout and stderr (bounded). */
  output = '';

  constructor(
    readonly dataDir: string,
    readonly ports: PlatformPorts,
    private readonly env: Record<string, string> = {},
    private readonly options: ProcessOptions = {},
  ) {
    this.adminToken =
      typeof options.adminToken === 'string'
        ? options.adminToken
        : `admin-${'k'.repeat(16)}-${process.pid}-${Date.now()}`;
  }

  /** The pid of the running process (what a supervisor would signal), undefined when none runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.ports.http}`;
  }

  get mqttUrl(): string {
    return `mqtt://127.0.0.1:${this.ports.mqtt}`;
  }

  /** Spawns the process; resolves with its exit when `waitReady` is false, else once /readyz answers 200. */
  spawn(): void {
    const command = this.options.command ?? ['--import', 'tsx', join(ROOT, 'cli.ts'), 'start'];
    const child = spawn(process.execPath, command, {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        DATA_DIR: this.dataDir,
        HTTP_HOST: '127.0.0.1',
        MQTT_HOST: '127.0.0.1',
        HTTP_PORT: String(this.ports.http),
        MQTT_PORT: String(this.ports.mqtt),
        MQTT_WS_PORT: '0',
        LOG_LEVEL: 'warn',
        LOG_FORMAT: 'json',
        ...(this.options.adminToken === false ? {} : { ADMIN_TOKEN: this.adminToken }),
        ...this.env,
      },
    });
    this.child = child;
    children.add(child);
    const keep = (chunk: Buffer) => {
      if (this.output.length < OUTPUT_LIMIT) this.output += chunk.toString('utf8');
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        children.delete(child);
        if (this.child === child) this.child = null;
        resolve({ code, signal });
      }),
    );
  }

  /** Starts and waits until /readyz answers 200 (or the process exits: then it throws with its output). */
  async start(): Promise<void> {
    this.spawn();
    let gone = false;
    void this.exited.then(() => {
      gone = true;
    });
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline && !gone) {
      try {
        const res = await fetch(`${this.httpUrl}/readyz`, { signal: AbortSignal.timeout(1_000) });
        await res.arrayBuffer();
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    await this.kill('SIGKILL');
    throw new Error(`platform did not become ready:\n${this.output.slice(-4_000)}`);
  }

  /** Resolves once the output holds `text`; throws with the output if the process exits first. */
  async whenOutput(text: string): Promise<void> {
    let gone = false;
    void this.exited.then(() => {
      gone = true;
    });
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!this.output.includes(text)) {
      if (gone || Date.now() > deadline)
        throw new Error(`no ${JSON.stringify(text)} in the output:\n${this.output.slice(-4_000)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Resolves with how the process ended. */
  whenExited(): Promise<Exit> {
    return this.exited;
  }

  async kill(signal: NodeJS.Signals): Promise<Exit> {
    this.child?.kill(signal);
    return this.exited;
  }

  async api<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await fetch(`${this.httpUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.adminToken}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  }
}
