import { Duplex } from 'node:stream';

export interface FrameGuardOptions {
  /** Largest MQTT packet (fixed header excluded) let through, bytes. */
  maxPacketBytes: number;
  /** Called once, before the connection is destroyed, when a packet claims more than `maxPacketBytes`. */
  onOversized(claimedBytes: number): void;
}

/** Only the stream surface aedes and our listeners use is forwarded; the rest stays on the raw socket. */
type RawStream = Duplex & { remoteAddress?: string; setNoDelay?: (on: boolean) => unknown };

/**
 * Sits between a connection and aedes and reads each MQTT fixed header as it streams past: the
 * remaining length (MQTT-2.2.3, 1–4 bytes) says how big the packet will be BEFORE its body arrives.
 * mqtt-packet buffers a whole packet before anyone sees it, and a packet may claim 256 MB, so a device
 * could make the broker hold that much per connection; here it is cut off at the header instead.
 *
 * Cost: a loop over the 2–5 header bytes per packet; bodies are skipped by length, never scanned.
 * Writes go straight to the socket; reads follow the socket's flow control (push → pause/resume).
 */
export class FrameGuard extends Duplex {
  readonly raw: RawStream;
  private readonly max: number;
  private readonly onOversized: (claimedBytes: number) => void;
  /** Bytes of the current packet's body still to pass. */
  private skip = 0;
  /** 0: next byte is a packet type; 1: inside the remaining-length varint. */
  private phase: 0 | 1 = 0;
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private tripped = false;

  constructor(raw: RawStream, options: FrameGuardOptions) {
    super({ allowHalfOpen: false });
    this.raw = raw;
    this.max = options.maxPacketBytes;
    this.onOversized = options.onOversized;
    raw.on('data', this.onData);
    raw.once('end', () => this.push(null));
    raw.once('close', () => this.destroy());
    raw.on('error', (err) => this.destroy(err));
  }

  /** Address of the peer, as on a socket (logs, rate limits). */
  get remoteAddress(): string | undefined {
    return this.raw.remoteAddress;
  }

  setNoDelay(on = true): this {
    this.raw.setNoDelay?.(on);
    return this;
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.tripped) return;
    if (!this.scan(chunk)) {
      this.tripped = true;
      this.raw.destroy();
      this.destroy();
      return;
    }
    if (!this.push(chunk)) this.raw.pause();
  };

  /** False when a packet claims too much or its length field is malformed. */
  private scan(chunk: Buffer): boolean {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.skip > 0) {
        const take = Math.min(this.skip, n - i);
        this.skip -= take;
        i += take;
        continue;
      }
      if (this.phase === 0) {
        i++;
        this.phase = 1;
        this.length = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
        continue;
      }
      const b = chunk[i++]!;
      this.length += (b & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      this.lengthBytes++;
      if ((b & 0x80) !== 0) {
        // MQTT-2.2.3: at most four length bytes. mqtt-packet errors on a fifth; stop here all the same.
        if (this.lengthBytes === 4) {
          this.onOversized(Number.POSITIVE_INFINITY);
          return false;
        }
        continue;
      }
      if (this.length > this.max) {
        this.onOversized(this.length);
        return false;
      }
      this.skip = this.length;
      this.phase = 0;
    }
    return true;
  }

  override _read(): void {
    this.raw.resume();
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    if (this.raw.destroyed) callback();
    else this.raw.write(chunk, encoding, callback);
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.raw.end(() => callback());
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.raw.off('data', this.onData);
    if (!this.raw.destroyed) this.raw.destroy();
    callback(err);
  }
}
