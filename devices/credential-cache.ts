import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Remembers recent successful logins so that a reconnect storm (a district's gateway router rebooting,
 * thousands of devices reconnecting at once) does not cost one scrypt each (~50 ms of a thread-pool
 * thread). Trade-off, written down: what is kept is an HMAC, under a key that lives only in this process,
 * of (password, current credential hash), never the password itself. It is one entry per device, bounded
 * (least recently used evicted), and dropped when the device's password is rotated or it is disabled; it
 * also cannot match after a rotation because the credential hash is part of the MAC.
 */
export class CredentialCache {
  private readonly key = randomBytes(32);
  private readonly entries = new Map<string, Buffer>();

  constructor(private readonly maxEntries = 10_000) {}

  private mac(password: string, credentialHash: string): Buffer {
    return createHmac('sha256', this.key).update(password).update('\0').update(credentialHash).digest();
  }

  /** True when this (id, password) was verified against this credential hash recently. */
  has(id: string, password: string, credentialHash: string): boolean {
    const stored = this.entries.get(id);
    if (!stored) return false;
    if (!timingSafeEqual(stored, this.mac(password, credentialHash))) return false;
    // Refresh its place in the LRU order (Map keeps insertion order).
    this.entries.delete(id);
    this.entries.set(id, stored);
    return true;
  }

  remember(id: string, password: string, credentialHash: string): void {
    this.entries.delete(id);
    this.entries.set(id, this.mac(password, credentialHash));
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }

  forget(id: string): void {
    this.entries.delete(id);
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }
}
