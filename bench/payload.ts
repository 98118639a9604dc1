/**
 * The one payload every scenario receives: an air-quality reading with five metrics (two of them in ppb, so
 * citymetrics converts units), an epoch-ms `ts` that is the send time (publish→stored latency is measured
 * from it, on the same machine clock) and a `seq`. Values come from a fixed-seed pool, so every scenario
 * and every run sees the same bytes apart from ts and seq.
 */

/** mulberry32: small, fast, good enough for benchmark values; fixed seed → same sequence everywhere. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export const DEFAULT_SEED = 20_240_601;
const POOL_SIZE = 1024;

const round1 = (x: number): number => Math.round(x * 10) / 10;

/** The `"values":{...}}` tails, precomputed: building a payload costs two number-to-string conversions. */
export function valuePool(seed = DEFAULT_SEED, size = POOL_SIZE): string[] {
  const rnd = mulberry32(seed);
  const pool: string[] = [];
  for (let i = 0; i < size; i++) {
    const pm25 = round1(3 + rnd() * 60);
    const pm10 = round1(pm25 + rnd() * 40);
    const no2 = round1(5 + rnd() * 60); // ppb
    const so2 = round1(0.5 + rnd() * 15);
    const o3 = round1(10 + rnd() * 50); // ppb
    pool.push(
      `"values":{"pm25":${pm25},"pm10":${pm10},"no2":{"value":${no2},"unit":"ppb"},"so2":${so2},"o3":{"value":${o3},"unit":"ppb"}}}`,
    );
  }
  return pool;
}

/** Metrics in each payload (values/s = readings/s × this). */
export const VALUES_PER_READING = 5;

export function buildPayload(pool: readonly string[], ts: number, seq: number): string {
  return `{"ts":${ts},"seq":${seq},${pool[seq % pool.length]}`;
}

const TS_OFFSET = 6; // after `{"ts":`

/**
 * The send time of a payload without JSON.parse: the bare-broker consumer "only counts", and a parse there
 * would charge it work the baseline is not meant to do. Returns NaN for anything not shaped like ours.
 */
export function sendTimeOf(payload: Buffer): number {
  let ts = 0;
  let i = TS_OFFSET;
  for (; i < payload.length; i++) {
    const c = payload[i]!;
    if (c < 48 || c > 57) break;
    ts = ts * 10 + (c - 48);
  }
  return i === TS_OFFSET || payload[i] !== 44 ? Number.NaN : ts;
}
