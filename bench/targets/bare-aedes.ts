import { type AddressInfo, createServer, type Socket } from 'node:net';
import { Aedes } from 'aedes';
import { sendTimeOf, VALUES_PER_READING } from '../payload.ts';
import { benchDeviceIds, HOST, type Target, type TargetOptions } from './target.ts';

/**
 * Scenario 1, the ceiling: aedes with default options and an in-process consumer that only counts (no
 * authentication, no ACL, no validation, no storage). The send time is read from the payload's leading
 * digits, not by parsing JSON.
 */
export async function startBareAedes(o: TargetOptions): Promise<Target> {
  const broker = await Aedes.createBroker();
  await new Promise<void>((resolve) => {
    broker.subscribe(
      'devices/+/telemetry',
      function countOnly(packet, cb) {
        o.counter.record(sendTimeOf(packet.payload as Buffer), VALUES_PER_READING, Date.now());
        cb();
      },
      () => resolve(),
    );
  });
  const sockets = new Set<Socket>();
  const server = createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    broker.handle(socket);
  });
  server.maxConnections = 100_000;
  await new Promise<void>((resolve) => server.listen(0, HOST, () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    host: HOST,
    devices: benchDeviceIds(o.devices).map((id) => ({ id })),
    pids: [process.pid],
    async stop() {
      // Connections first: aedes.close() with a backlog can overflow the stack (upstream).
      server.close();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
  };
}
