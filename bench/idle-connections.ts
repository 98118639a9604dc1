import { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { type Handlers, serve } from './ipc.ts';
import type { DeviceLogin } from './load-generator.ts';
import { encodeConnect, PacketReader } from './mqtt-wire.ts';

/**
 * The lean connection generator (a child of bench/run.ts): one raw socket per device that writes its
 * pre-encoded CONNECT, waits for CONNACK and then stays idle. No client object, no timers, no keep-alive
 * pings (keep-alive 0), so tens of thousands of devices fit in one small process.
 */

export interface OpenArgs {
  host: string;
  port: number;
  logins: DeviceLogin[];
  /** connections being set up at once */
  concurrency: number;
}

const sockets: Socket[] = [];

function openOne(host: string, port: number, d: DeviceLogin): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let settled = false;
    const settle = (ok: boolean) => {
      if (settled) return;
      settled = true;
      if (ok) sockets.push(socket);
      else socket.destroy();
      resolve(ok);
    };
    const reader = new PacketReader((p) => {
      if (p.type === 'connack') settle(p.returnCode === 0);
    });
    socket.on('data', (chunk: Buffer) => reader.push(chunk));
    socket.on('error', () => settle(false));
    socket.on('close', () => settle(false));
    socket.connect(port, host, () => {
      socket.write(
        encodeConnect({
          clientId: d.id,
          ...(d.username !== undefined ? { username: d.username } : {}),
          ...(d.password !== undefined ? { password: d.password } : {}),
        }),
      );
    });
  });
}

const handlers = {
  async open(a: OpenArgs) {
    const started = performance.now();
    let next = 0;
    let opened = 0;
    let failed = 0;
    const worker = async () => {
      while (next < a.logins.length) {
        const d = a.logins[next++]!;
        if (await openOne(a.host, a.port, d)) opened++;
        else failed++;
      }
    };
    await Promise.all(Array.from({ length: Math.min(a.concurrency, a.logins.length) }, worker));
    return {
      opened,
      failed,
      open: sockets.filter((s) => !s.destroyed).length,
      ms: performance.now() - started,
    };
  },
  closeAll() {
    for (const s of sockets) s.destroy();
    sockets.length = 0;
    return true;
  },
} satisfies Handlers;

serve(handlers, async () => {
  for (const s of sockets) s.destroy();
});
