import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:net';
import type { Aedes, AedesOptions } from 'aedes';

export interface CapturedMessage {
  topic: string;
  payload: string;
  qos: number;
  retain: boolean;
  clientId: string | null;
}

/** A real aedes broker on a TCP port, recording every message under `devices/`. For tests and demos. */
export interface TestBroker {
  broker: Aedes;
  port: number;
  url: string;
  messages: CapturedMessage[];
  /** Resolves once `predicate(messages)` holds (checked on each new message and at once). */
  waitFor(predicate: (messages: readonly CapturedMessage[]) => boolean): Promise<void>;
  close(): Promise<void>;
}

/** Starts aedes on `port` (0 = any free port). Test support: no auth unless `options.authenticate` is set. */
export async function startTestBroker(port = 0, options: AedesOptions = {}): Promise<TestBroker> {
  const { Aedes } = await import('aedes');
  const broker = await Aedes.createBroker(options);
  const server: Server = createServer(broker.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  const messages: CapturedMessage[] = [];
  const waiters = new Set<{ predicate: (m: readonly CapturedMessage[]) => boolean; resolve: () => void }>();
  broker.on('publish', (packet, client) => {
    if (!packet.topic.startsWith('devices/')) return;
    messages.push({
      topic: packet.topic,
      payload: Buffer.from(packet.payload).toString('utf8'),
      qos: packet.qos,
      retain: packet.retain,
      clientId: client?.id ?? null,
    });
    for (const w of waiters) {
      if (w.predicate(messages)) {
        waiters.delete(w);
        w.resolve();
      }
    }
  });
  return {
    broker,
    port: actual,
    url: `mqtt://127.0.0.1:${actual}`,
    messages,
    waitFor(predicate) {
      if (predicate(messages)) return Promise.resolve();
      return new Promise<void>((resolve) => waiters.add({ predicate, resolve }));
    },
    async close() {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
