import { readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { testConfig } from '../../core/config.ts';
import { isCityError } from '../../core/errors.ts';
import { silentLogger } from '../../core/logger.ts';
import { buildPlatform } from '../../platform.ts';
import { makeTempDir, type TempDir } from '../helpers/temp-dir.ts';

/** Files of `dir` this process holds open (Linux: /proc/self/fd). */
function openFilesUnder(dir: string): string[] {
  const held: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(dir)) held.push(target);
    } catch {
      // the descriptor closed while we looked
    }
  }
  return held;
}

describe('a platform that fails to open', () => {
  let dir: TempDir;
  afterEach(() => dir.remove());

  it('releases the databases it had already opened, and names the damaged file', async () => {
    dir = makeTempDir('citymetrics-failed-start-');
    // registry.db and access.db open fine; series.db, opened next, is damaged.
    writeFileSync(join(dir.path, 'series.db'), Buffer.alloc(4096, 0x5a));
    const attempt = buildPlatform({ config: testConfig({ dataDir: dir.path }), logger: silentLogger() });
    const err = await attempt.then(
      () => null,
      (e: unknown) => e,
    );
    expect(isCityError(err) && err.code).toBe('STORE_CORRUPT');
    expect((err as Error).message).toContain('series.db');
    expect(openFilesUnder(dir.path)).toEqual([]);
  });
});
