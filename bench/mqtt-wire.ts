import mqttPacket from 'mqtt-packet';

/**
 * Just enough MQTT 3.1.1 for a lean load generator: CONNECT is encoded once per device with mqtt-packet;
 * PUBLISH is written by hand into one buffer (the hot path: no packet object, no stream per message); the
 * reader only needs CONNACK and PUBACK. A client object per device would cost the generator more than the
 * broker under test: the load generator must not be the limit.
 */

export interface ConnectOptions {
  clientId: string;
  username?: string;
  password?: string;
  /** seconds; 0 turns keep-alive off */
  keepaliveSec?: number;
}

export function encodeConnect(o: ConnectOptions): Buffer {
  return mqttPacket.generate({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clean: true,
    clientId: o.clientId,
    keepalive: o.keepaliveSec ?? 0,
    ...(o.username !== undefined ? { username: o.username } : {}),
    ...(o.password !== undefined ? { password: Buffer.from(o.password) } : {}),
  });
}

/** Bytes of the MQTT "remaining length" varint for a value (MQTT-2.2.3). */
const varintBytes = (n: number): number => (n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4);

/**
 * One PUBLISH packet. `topic` is pre-encoded (2-byte length + UTF-8) by `encodeTopic`; `messageId` is used
 * only at QoS 1. The payload is an ASCII/UTF-8 string written straight into the packet buffer.
 */
export function encodePublish(topic: Buffer, payload: string, qos: 0 | 1, messageId = 0): Buffer {
  const payloadLen = Buffer.byteLength(payload);
  const remaining = topic.length + (qos === 1 ? 2 : 0) + payloadLen;
  const header = 1 + varintBytes(remaining);
  const buf = Buffer.allocUnsafe(header + remaining);
  buf[0] = 0x30 | (qos << 1);
  let off = 1;
  let n = remaining;
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    buf[off++] = byte;
  } while (n > 0);
  off += topic.copy(buf, off);
  if (qos === 1) {
    buf[off++] = messageId >> 8;
    buf[off++] = messageId & 0xff;
  }
  buf.write(payload, off);
  return buf;
}

export function encodeTopic(topic: string): Buffer {
  const bytes = Buffer.from(topic);
  const out = Buffer.allocUnsafe(2 + bytes.length);
  out.writeUInt16BE(bytes.length, 0);
  bytes.copy(out, 2);
  return out;
}

export type Incoming =
  | { type: 'connack'; returnCode: number }
  | { type: 'puback'; messageId: number }
  | { type: 'other'; cmd: number };

/**
 * Splits a byte stream into packets and reports CONNACK and PUBACK (others as `other`). Keeps at most one
 * partial packet between calls.
 */
export class PacketReader {
  private rest: Buffer | null = null;

  constructor(private readonly onPacket: (p: Incoming) => void) {}

  push(chunk: Buffer): void {
    let buf = this.rest === null ? chunk : Buffer.concat([this.rest, chunk]);
    this.rest = null;
    let off = 0;
    while (off < buf.length) {
      // Fixed header: type byte, then a 1–4 byte remaining length.
      let len = 0;
      let mul = 1;
      let i = off + 1;
      let complete = false;
      for (; i < buf.length && i < off + 5; i++) {
        const b = buf[i]!;
        len += (b & 0x7f) * mul;
        mul *= 128;
        if ((b & 0x80) === 0) {
          complete = true;
          i++;
          break;
        }
      }
      if (!complete || i + len > buf.length) break;
      const type = buf[off]! >> 4;
      if (type === 2) this.onPacket({ type: 'connack', returnCode: buf[i + 1]! });
      else if (type === 4) this.onPacket({ type: 'puback', messageId: (buf[i]! << 8) | buf[i + 1]! });
      else this.onPacket({ type: 'other', cmd: type });
      off = i + len;
    }
    if (off < buf.length) {
      buf = buf.subarray(off);
      this.rest = Buffer.from(buf);
    }
  }
}
