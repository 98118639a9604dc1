import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CityError } from './errors.ts';

/**
 * One platform per data directory. Two processes on the same files would each replay the durable log,
 * keep their own series cache and close the same months (with different time zones, differently).
 *
 * The lock is a write transaction held open on `<dataDir>/instance.lock` for the life of the platform:
 * SQLite takes it with a POSIX advisory lock, which the kernel drops when the process ends in any way,
 * SIGKILL and power loss included, so there is no stale lock to detect and no pid that a later process
 * could reuse. Who holds it is written next to it (`instance.lock.json`) only for the refusal message: the
 * lock, never that file, decides.
 */
export interface InstanceLock {
  /** Lets another process take the data directory. Idempotent. */
  close(): void;
}

export interface LockHolder {
  pid: number;
  host: string;
  /** ISO-8601 */
  startedAt: string;
}

const LOCK_FILE = 'instance.lock';
const HOLDER_FILE = 'instance.lock.json';

function readHolder(dataDir: string): LockHolder | null {
  try {
    const holder = JSON.parse(readFileSync(join(dataDir, HOLDER_FILE), 'utf8')) as Partial<LockHolder>;
    return typeof holder.pid === 'number' ? (holder as LockHolder) : null;
  } catch {
    // being written at this very moment, or removed by hand: the message says less, the lock still holds
    return null;
  }
}

function inUse(dataDir: string, cause: unknown): CityError {
  const holder = readHolder(dataDir);
  const who =
    holder === null
      ? 'another citymetrics process'
      : `citymetrics pid ${holder.pid} on ${holder.host} (started ${holder.startedAt})`;
  return new CityError(
    'PLATFORM_DATA_DIR_IN_USE',
    `DATA_DIR ${dataDir} is in use by ${who}: stop that process first, or give this one its own DATA_DIR`,
    { field: 'DATA_DIR', details: { dataDir, holder }, cause },
  );
}

/** Takes the data directory for this process, or throws PLATFORM_DATA_DIR_IN_USE naming the holder. */
export function lockDataDir(dataDir: string, now: () => number = Date.now): InstanceLock {
  // timeout 0: a held lock answers SQLITE_BUSY at once instead of after better-sqlite3's 5 s wait.
  const db = new Database(join(dataDir, LOCK_FILE), { timeout: 0 });
  try {
    db.exec('BEGIN IMMEDIATE');
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code === 'SQLITE_BUSY') throw inUse(dataDir, err);
    throw err;
  }
  const holder: LockHolder = { pid: process.pid, host: hostname(), startedAt: new Date(now()).toISOString() };
  try {
    writeFileSync(join(dataDir, HOLDER_FILE), `${JSON.stringify(holder)}\n`);
  } catch {
    // a read-only holder note only makes a later refusal less specific
  }
  let open = true;
  return {
    close() {
      if (!open) return;
      open = false;
      db.close();
    },
  };
}
