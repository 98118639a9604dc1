import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findServerBinary, freePort, ProcessServer } from './process-server.ts';

export const MOSQUITTO_PATH = '/usr/sbin/mosquitto';

/** The binary, or null (the caller skips) when mosquitto is not installed; under CI a missing binary throws. */
export const mosquittoBinary = (): string | null => findServerBinary(MOSQUITTO_PATH, 'mosquitto');

export interface MosquittoTestServer {
  /** mqtt://127.0.0.1:<port> */
  readonly url: string;
  destroy(): Promise<void>;
}

const answers = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/**
 * A real Debian mosquitto on 127.0.0.1 and a free port, anonymous, in memory: the broker a LoRaWAN network
 * server publishes to in the bridge tests. Sessions of clients that connect with clean=false are kept for
 * as long as it runs, which is what the bridge's delivery relies on.
 */
export async function startMosquitto(binary: string = MOSQUITTO_PATH): Promise<MosquittoTestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'citymetrics-mosquitto-'));
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence false',
      // Many uplinks queued for an offline bridge: the default limit (1000) is not what is tested.
      'max_queued_messages 10000',
      'log_dest stderr',
      '',
    ].join('\n'),
  );
  const server = new ProcessServer({
    name: 'mosquitto',
    command: binary,
    args: ['-c', conf],
    ready: () => answers(port),
  });
  await server.start();
  return {
    url: `mqtt://127.0.0.1:${port}`,
    async destroy() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
