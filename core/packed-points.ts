import type { SeriesPoint } from './ports/series-store.ts';

/**
 * A batch of points in the shape that crosses to the writer thread cheaply: numbers in typed arrays (their
 * buffers are transferred, not copied) and each distinct string once. Cloning 5 000 point objects costs
 * ~4 ms of the main thread; packing them costs well under one (the strings repeat per device and metric).
 */
export interface PackedPoints {
  /** each distinct device id, kind, district and metric of the batch, once */
  strings: string[];
  /** per point: indexes of deviceId, kind, district, metric in `strings` */
  refs: Uint32Array;
  ts: Float64Array;
  values: Float64Array;
}

/** Fills a packed batch of a known size, point by point, each distinct string stored once. */
export class PointPacker {
  private readonly refs: Uint32Array<ArrayBuffer>;
  private readonly ts: Float64Array<ArrayBuffer>;
  private readonly values: Float64Array<ArrayBuffer>;
  private readonly strings: string[] = [];
  private readonly index = new Map<string, number>();
  private n = 0;

  constructor(capacity: number) {
    this.refs = new Uint32Array(capacity * 4);
    this.ts = new Float64Array(capacity);
    this.values = new Float64Array(capacity);
  }

  add(deviceId: string, kind: string, district: string, metric: string, ts: number, value: number): void {
    const r = this.n * 4;
    this.refs[r] = this.ref(deviceId);
    this.refs[r + 1] = this.ref(kind);
    this.refs[r + 2] = this.ref(district);
    this.refs[r + 3] = this.ref(metric);
    this.ts[this.n] = ts;
    this.values[this.n] = value;
    this.n++;
  }

  /** The batch (capacity points: fill it first), with the buffers a postMessage may transfer. */
  finish(): { packed: PackedPoints; transfer: ArrayBuffer[] } {
    const { strings, refs, ts, values } = this;
    return { packed: { strings, refs, ts, values }, transfer: [refs.buffer, ts.buffer, values.buffer] };
  }

  private ref(s: string): number {
    let i = this.index.get(s);
    if (i === undefined) {
      i = this.strings.length;
      this.strings.push(s);
      this.index.set(s, i);
    }
    return i;
  }
}

export function packPoints(points: readonly SeriesPoint[]): {
  packed: PackedPoints;
  transfer: ArrayBuffer[];
} {
  const packer = new PointPacker(points.length);
  for (const p of points) packer.add(p.deviceId, p.kind, p.district, p.metric, p.ts, p.value);
  return packer.finish();
}

export function unpackPoints(packed: PackedPoints): SeriesPoint[] {
  const { strings, refs, ts, values } = packed;
  const out: SeriesPoint[] = new Array(ts.length);
  for (let i = 0; i < ts.length; i++) {
    const r = i * 4;
    out[i] = {
      deviceId: strings[refs[r]!]!,
      kind: strings[refs[r + 1]!]!,
      district: strings[refs[r + 2]!]!,
      metric: strings[refs[r + 3]!]!,
      ts: ts[i]!,
      value: values[i]!,
    };
  }
  return out;
}

export function packedLength(p: PackedPoints): number {
  return p.ts.length;
}

/**
 * Points [start, end) of a packed batch, copied: a view would carry its whole buffer across a thread
 * (structured clone copies the buffer, not the view).
 */
export function slicePacked(p: PackedPoints, start: number, end: number): PackedPoints {
  return {
    strings: p.strings,
    refs: p.refs.slice(start * 4, end * 4),
    ts: p.ts.slice(start, end),
    values: p.values.slice(start, end),
  };
}

/** One packed batch from several, in order; their string tables are merged. */
export function concatPacked(parts: readonly PackedPoints[]): PackedPoints {
  if (parts.length === 1) return parts[0]!;
  let n = 0;
  for (const p of parts) n += p.ts.length;
  const refs = new Uint32Array(n * 4);
  const ts = new Float64Array(n);
  const values = new Float64Array(n);
  const strings: string[] = [];
  const index = new Map<string, number>();
  let at = 0;
  for (const p of parts) {
    // Each part's string indexes, renumbered into the merged table.
    const remap = new Uint32Array(p.strings.length);
    for (let i = 0; i < p.strings.length; i++) {
      const s = p.strings[i]!;
      let j = index.get(s);
      if (j === undefined) {
        j = strings.length;
        strings.push(s);
        index.set(s, j);
      }
      remap[i] = j;
    }
    for (let i = 0; i < p.refs.length; i++) refs[at * 4 + i] = remap[p.refs[i]!]!;
    ts.set(p.ts, at);
    values.set(p.values, at);
    at += p.ts.length;
  }
  return { strings, refs, ts, values };
}
