import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Request/response over the fork IPC channel. The runner drives two children per scenario (the system under
 * test and the load generator); each request carries an id and gets exactly one reply.
 */

export interface Request {
  id: number;
  op: string;
  args?: unknown;
}
export type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

export interface Child {
  process: ChildProcess;
  call<T>(op: string, args?: unknown, timeoutMs?: number): Promise<T>;
  /** Asks the child to exit and waits; kills it after a grace period. */
  close(): Promise<void>;
}

/** Every child not yet exited, so that a failed run can end them all, whichever scenario forked them. */
const running = new Set<Child>();

export function forkChild(entry: string, execArgv: string[] = []): Child {
  const path = fileURLToPath(new URL(entry, import.meta.url));
  const child = fork(path, [], {
    execArgv: ['--import', 'tsx', ...execArgv],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let next = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = true;
      running.delete(handle);
      for (const p of pending.values()) p.reject(new Error(`${entry} exited (${code ?? signal})`));
      pending.clear();
      resolve();
    });
  });
  child.on('message', (m: Reply) => {
    const p = pending.get(m.id);
    if (p === undefined) return;
    pending.delete(m.id);
    if (m.ok) p.resolve(m.value);
    else p.reject(new Error(m.error));
  });
  const handle: Child = {
    process: child,
    call<T>(op: string, args?: unknown, timeoutMs = 120_000): Promise<T> {
      if (exited) return Promise.reject(new Error(`${entry} is not running`));
      const id = next++;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${entry}: ${op} timed out after ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, {
          resolve: (v) => {
            clearTimeout(timer);
            resolve(v as T);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
        child.send({ id, op, args } satisfies Request);
      });
    },
    async close() {
      if (exited) return;
      // A child whose channel is already gone leaves by itself (its 'disconnect' handler).
      if (child.connected) child.send({ id: 0, op: 'exit' } satisfies Request);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exit;
      clearTimeout(timer);
    },
  };
  running.add(handle);
  return handle;
}

/**
 * Closes every child still running (each one stops what it started, a mosquitto for instance, before it
 * leaves; SIGKILL after the grace period). A child left running holds its IPC channel open, and that alone
 * keeps the runner alive for ever.
 */
export async function closeAllChildren(): Promise<void> {
  await Promise.all([...running].map((c) => c.close()));
}

export type Handlers = Record<string, (args: never) => unknown>;

/** Child side: answers requests with the handlers; `exit` runs `onExit` and leaves. */
export function serve(handlers: Handlers, onExit: () => Promise<void>): void {
  process.on('message', (m: Request) => {
    if (m.op === 'exit') {
      onExit().finally(() => process.exit(0));
      return;
    }
    const handler = handlers[m.op];
    if (handler === undefined) {
      process.send?.({ id: m.id, ok: false, error: `unknown op ${m.op}` } satisfies Reply);
      return;
    }
    Promise.resolve()
      .then(() => handler(m.args as never))
      .then(
        (value) => process.send?.({ id: m.id, ok: true, value } satisfies Reply),
        (err: unknown) =>
          process.send?.({
            id: m.id,
            ok: false,
            error: err instanceof Error ? err.message : String(err),
          } satisfies Reply),
      );
  });
  // The runner going away must not leave a broker or a generator behind.
  process.on('disconnect', () => {
    onExit().finally(() => process.exit(0));
  });
}
