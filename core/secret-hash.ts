import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * Salted, slow hashing of device passwords and API keys (scrypt, RFC 7914). The stored form describes
 * itself, `scrypt$N$r$p$<salt b64>$<hash b64>`, so the cost can be raised later without breaking old
 * hashes: each is verified with the parameters it was made with.
 */

/** Default CPU/memory cost. N=16384, r=8 uses 16 MiB and ~40–60 ms per hash on our 2-core machines. */
export const DEFAULT_SCRYPT_COST = 16_384;
const BLOCK_SIZE = 8;
const PARALLELISM = 1;
const SALT_BYTES = 16;
const KEY_BYTES = 32;

// Bounds on what verifySecret accepts from a stored string: a damaged or hostile value must not make us
// allocate gigabytes or spin for minutes. 2^20 × 128 × 16 = 2 GiB is already far beyond anything we write.
const MAX_COST = 1 << 20;
const MAX_BLOCK_SIZE = 16;
const MAX_PARALLELISM = 4;

export interface HashOptions {
  /** scrypt N (a power of two ≥ 2). Lower it only in tests and benchmarks. Default 16384. */
  cost?: number;
}

/** A random secret (default 24 bytes = 192 bits), base64url so it is safe in MQTT passwords and URLs. */
export function generateSecret(bytes = 24): string {
  return randomBytes(bytes).toString('base64url');
}

const isPowerOfTwo = (n: number): boolean => Number.isInteger(n) && n >= 2 && (n & (n - 1)) === 0;

function derive(
  secret: string,
  salt: Buffer,
  cost: number,
  r: number,
  p: number,
  keyLen: number,
): Promise<Buffer> {
  // scrypt refuses to run above maxmem (default 32 MiB); give it what these parameters need plus slack.
  const maxmem = 128 * cost * r * p + 1024 * 1024 + 128 * r * p;
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, keyLen, { N: cost, r, p, maxmem }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** Hashes a secret with a fresh random salt. */
export async function hashSecret(secret: string, options: HashOptions = {}): Promise<string> {
  const cost = options.cost ?? DEFAULT_SCRYPT_COST;
  if (!isPowerOfTwo(cost) || cost > MAX_COST)
    throw new RangeError(`scrypt cost must be a power of two ≤ ${MAX_COST}`);
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(secret, salt, cost, BLOCK_SIZE, PARALLELISM, KEY_BYTES);
  return `scrypt$${cost}$${BLOCK_SIZE}$${PARALLELISM}$${salt.toString('base64')}$${key.toString('base64')}`;
}

interface ParsedHash {
  cost: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

const DECIMAL = /^[1-9][0-9]{0,9}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function parseStored(stored: unknown): ParsedHash | null {
  if (typeof stored !== 'string' || stored.length > 512) return null;
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return null;
  const [, costText, rText, pText, saltText, keyText] = parts as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (!DECIMAL.test(costText) || !DECIMAL.test(rText) || !DECIMAL.test(pText)) return null;
  if (!BASE64.test(saltText) || !BASE64.test(keyText)) return null;
  const cost = Number(costText);
  const r = Number(rText);
  const p = Number(pText);
  if (!isPowerOfTwo(cost) || cost > MAX_COST || r > MAX_BLOCK_SIZE || p > MAX_PARALLELISM) return null;
  const salt = Buffer.from(saltText, 'base64');
  const key = Buffer.from(keyText, 'base64');
  if (salt.length < 8 || key.length < 16 || key.length > 64) return null;
  return { cost, r, p, salt, key };
}

/**
 * True when `secret` matches `stored`. The comparison is constant-time (timingSafeEqual on equal-length
 * buffers). A malformed stored string yields false and never throws: a damaged row must not crash a
 * broker callback.
 */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  if (typeof secret !== 'string') return false;
  const parsed = parseStored(stored);
  if (!parsed) return false;
  try {
    const key = await derive(secret, parsed.salt, parsed.cost, parsed.r, parsed.p, parsed.key.length);
    return timingSafeEqual(key, parsed.key);
  } catch {
    return false;
  }
}

/**
 * A well-formed stored hash that matches no secret (random salt and random "hash"). Verifying against it
 * costs exactly as much as verifying a real hash of the same cost: used for unknown ids, so the time taken
 * does not tell which ids exist.
 */
export function decoyHash(options: HashOptions = {}): string {
  const cost = options.cost ?? DEFAULT_SCRYPT_COST;
  const salt = randomBytes(SALT_BYTES).toString('base64');
  const key = randomBytes(KEY_BYTES).toString('base64');
  return `scrypt$${cost}$${BLOCK_SIZE}$${PARALLELISM}$${salt}$${key}`;
}
