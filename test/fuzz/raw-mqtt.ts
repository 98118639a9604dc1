import { connect, type Socket } from 'node:net';
import { generate, type Packet } from 'mqtt-packet';

/** A raw TCP connection to the broker: bytes in, and a promise for the moment the broker hangs up. */
export interface RawConnection {
  socket: Socket;
  /** Everything the broker sent, concatenated. */
  received(): Buffer;
  /** Resolves when the connection is closed (by either side). */
  closed: Promise<void>;
  write(bytes: Buffer | Uint8Array): void;
  destroy(): void;
}

export async function openRaw(port: number, host = '127.0.0.1'): Promise<RawConnection> {
  const socket = connect({ port, host });
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  // A reset from the broker is the expected end of most fuzz cases, not a test failure.
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  return {
    socket,
    received: () => Buffer.concat(chunks),
    closed,
    write: (bytes) => {
      if (!socket.destroyed) socket.write(bytes);
    },
    destroy: () => socket.destroy(),
  };
}

/** An MQTT packet as bytes (MQTT 3.1.1 unless the packet says otherwise). */
export const packet = (p: Packet, protocolVersion = 4): Buffer => generate(p, { protocolVersion });

export const connectPacket = (username: string, password: string, clientId = username): Buffer =>
  packet({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clean: true,
    clientId,
    keepalive: 0,
    username,
    password: Buffer.from(password),
  });

/** A fixed header (type byte + remaining-length varint) claiming `length` bytes, with no body. */
export function headerClaiming(typeByte: number, length: number): Buffer {
  const bytes = [typeByte];
  let x = length;
  do {
    let b = x % 128;
    x = Math.floor(x / 128);
    if (x > 0) b |= 0x80;
    bytes.push(b);
  } while (x > 0);
  return Buffer.from(bytes);
}

/** Resolves once the broker has sent at least `n` bytes on the connection (CONNACK is 4). */
export function receivedAtLeast(conn: RawConnection, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let done = false;
    const check = (): void => {
      const got = conn.received();
      if (done || got.length < n) return;
      done = true;
      conn.socket.off('data', check);
      resolve(got);
    };
    conn.socket.on('data', check);
    // `closed` also settles for a connection that was already closed before this was called.
    void conn.closed.then(() => {
      check();
      if (done) return;
      done = true;
      conn.socket.off('data', check);
      reject(new Error(`connection closed after ${conn.received().length} bytes, expected ${n}`));
    });
    check();
  });
}
