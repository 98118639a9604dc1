import { Readable } from 'node:stream';
import yazl from 'yazl';

/** A zip whose one entry inflates to `bytes` of spaces: a few hundred kilobytes on the wire. */
export function zipOf(
  entries: Array<{ name: string; bytes: number } | { name: string; data: Buffer }>,
): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const e of entries) {
    if ('data' in e) {
      zip.addBuffer(e.data, e.name);
      continue;
    }
    let left = e.bytes;
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    const stream = new Readable({
      read() {
        if (left <= 0) return this.push(null);
        const n = Math.min(left, chunk.length);
        left -= n;
        this.push(chunk.subarray(0, n));
      },
    });
    zip.addReadStream(stream, e.name, { size: e.bytes });
  }
  zip.end();
  const parts: Buffer[] = [];
  return new Promise((resolve, reject) => {
    zip.outputStream.on('data', (c: Buffer) => parts.push(c));
    zip.outputStream.on('end', () => resolve(Buffer.concat(parts)));
    zip.outputStream.on('error', reject);
  });
}

/** Rewrites every declared uncompressed size (local headers and central directory) to `size`: a lying archive. */
export function lieAboutSizes(zip: Buffer, size: number): Buffer {
  const out = Buffer.from(zip);
  for (let i = 0; i + 4 <= out.length; i++) {
    const sig = out.readUInt32LE(i);
    if (sig === 0x04034b50) out.writeUInt32LE(size, i + 22);
    else if (sig === 0x02014b50) out.writeUInt32LE(size, i + 24);
  }
  return out;
}
