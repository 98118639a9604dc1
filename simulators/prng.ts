/**
 * Small seeded generators: the simulators never call Math.random, so a run is repeatable from its seed
 * (a test can predict what a device sends, a demo looks the same every time).
 */

/** 32-bit FNV-1a of a string: turns device ids and names into seeds. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Mixes integers into one well-spread 32-bit seed (murmur3 finaliser on each step). */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    h ^= part >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** A seeded generator: a stateful stream of uniforms in [0, 1) with a few helpers. */
export interface Prng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform in [min, max). */
  range(min: number, max: number): number;
  /** Integer in [min, max] (both included). */
  int(min: number, max: number): number;
  /** true with probability p. */
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
}

/** mulberry32 (Tommy Ettinger): tiny, fast and good enough for simulation, not for cryptography. */
export function mulberry32(seed: number): Prng {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    range: (min, max) => min + (max - min) * next(),
    int: (min, max) => min + Math.floor((max - min + 1) * next()),
    chance: (p) => p > 0 && next() < p,
    pick: (items) => {
      if (items.length === 0) throw new RangeError('pick from an empty list');
      return items[Math.floor(next() * items.length)] as (typeof items)[number];
    },
  };
}

/**
 * Stateless noise: a uniform in [0, 1) that depends only on its inputs. Value models use it so that a
 * value is a pure function of (device seed, timestamp), whatever order readings are generated in.
 */
export function uniformAt(seed: number, ...keys: number[]): number {
  return mixSeed(seed, ...keys) / 4294967296;
}

/** Roughly normal noise (mean 0, sd ≈ 1) from three stateless uniforms: bounded to ±3, never NaN. */
export function gaussianAt(seed: number, ...keys: number[]): number {
  const a = uniformAt(seed, ...keys, 1);
  const b = uniformAt(seed, ...keys, 2);
  const c = uniformAt(seed, ...keys, 3);
  return (a + b + c - 1.5) * 2;
}
