import { describe, expect, it } from 'vitest';
import { DEFAULT_SCRYPT_COST, decoyHash, generateSecret, hashSecret, verifySecret } from './secret-hash.ts';

// A low cost keeps the suite fast; one test covers the default cost.
const cost = 1024;

describe('generateSecret', () => {
  it('returns base64url of the requested length, different every time', () => {
    const a = generateSecret();
    const b = generateSecret();
    expect(a).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(a).not.toBe(b);
    expect(Buffer.from(generateSecret(10), 'base64url')).toHaveLength(10);
  });
});

describe('hashSecret / verifySecret', () => {
  it('is self-describing and salted', async () => {
    const h1 = await hashSecret('s3cret', { cost });
    const h2 = await hashSecret('s3cret', { cost });
    expect(h1).toMatch(/^scrypt\$1024\$8\$1\$[A-Za-z0-9+/]+=*\$[A-Za-z0-9+/]+=*$/);
    expect(h1).not.toBe(h2);
    expect(h1).not.toContain('s3cret');
  });

  it('verifies the right secret and refuses a wrong one', async () => {
    const stored = await hashSecret('correct horse', { cost });
    expect(await verifySecret('correct horse', stored)).toBe(true);
    expect(await verifySecret('correct hors', stored)).toBe(false);
    expect(await verifySecret('', stored)).toBe(false);
  });

  it('uses N=16384 by default', async () => {
    const stored = await hashSecret('x');
    expect(stored.split('$')[1]).toBe(String(DEFAULT_SCRYPT_COST));
    expect(await verifySecret('x', stored)).toBe(true);
  });

  it('refuses a cost that is not a power of two', async () => {
    await expect(hashSecret('x', { cost: 1000 })).rejects.toThrow(RangeError);
  });

  it('returns false, never throws, on malformed stored strings', async () => {
    const good = await hashSecret('pw', { cost });
    const [, n, r, p, salt, key] = good.split('$');
    const malformed: unknown[] = [
      '',
      'garbage',
      'bcrypt$10$abc',
      `scrypt$${n}$${r}$${p}$${salt}`,
      `scrypt$${n}$${r}$${p}$${salt}$${key}$extra`,
      `scrypt$1000$${r}$${p}$${salt}$${key}`, // not a power of two
      `scrypt$1073741824$${r}$${p}$${salt}$${key}`, // absurd cost: refused before any work
      `scrypt$${n}$0$${p}$${salt}$${key}`,
      `scrypt$${n}$${r}$${p}$!!!$${key}`,
      `scrypt$${n}$${r}$${p}$${salt}$AAAA`, // too short a key
      `scrypt$-1$${r}$${p}$${salt}$${key}`,
      null,
      undefined,
      42,
    ];
    for (const stored of malformed) {
      expect(await verifySecret('pw', stored as string)).toBe(false);
    }
    expect(await verifySecret('pw', good)).toBe(true);
  });

  it('a decoy hash is well formed and matches nothing', async () => {
    const decoy = decoyHash({ cost });
    expect(decoy.split('$')).toHaveLength(6);
    expect(await verifySecret('', decoy)).toBe(false);
    expect(await verifySecret('anything', decoy)).toBe(false);
  });
});
