import { describe, expect, it } from 'vitest';
import { CredentialCache } from './credential-cache.ts';

describe('CredentialCache', () => {
  it('matches only the same password against the same credential hash', () => {
    const cache = new CredentialCache(10);
    cache.remember('d1', 'pw', 'hash-1');
    expect(cache.has('d1', 'pw', 'hash-1')).toBe(true);
    expect(cache.has('d1', 'pw2', 'hash-1')).toBe(false);
    expect(cache.has('d1', 'pw', 'hash-2')).toBe(false); // rotated: the old entry cannot match
    expect(cache.has('d2', 'pw', 'hash-1')).toBe(false);
    cache.forget('d1');
    expect(cache.has('d1', 'pw', 'hash-1')).toBe(false);
  });

  it('is bounded and evicts the least recently used device', () => {
    const cache = new CredentialCache(2);
    cache.remember('a', 'pw', 'h');
    cache.remember('b', 'pw', 'h');
    expect(cache.has('a', 'pw', 'h')).toBe(true); // a is now the most recent
    cache.remember('c', 'pw', 'h');
    expect(cache.size).toBe(2);
    expect(cache.has('b', 'pw', 'h')).toBe(false);
    expect(cache.has('a', 'pw', 'h')).toBe(true);
    expect(cache.has('c', 'pw', 'h')).toBe(true);
  });
});
