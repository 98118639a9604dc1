import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A directory of its own under the OS temp dir, for tests that need real files (SQLite, logs). */
export interface TempDir {
  readonly path: string;
  /** Joins names onto the directory path. */
  file(...names: string[]): string;
  /** Removes the directory and everything in it; safe to call twice. */
  remove(): void;
}

export function makeTempDir(prefix = 'citymetrics-'): TempDir {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return {
    path: dir,
    file: (...names) => path.join(dir, ...names),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
