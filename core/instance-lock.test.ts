import { afterEach, describe, expect, it } from 'vitest';
import { makeTempDir, type TempDir } from '../test/helpers/temp-dir.ts';
import { isCityError } from './errors.ts';
import { lockDataDir } from './instance-lock.ts';

describe('lockDataDir', () => {
  let dir: TempDir;
  afterEach(() => dir.remove());

  it('refuses a second holder, naming the first, until the first closes', () => {
    dir = makeTempDir('citymetrics-lock-');
    const first = lockDataDir(dir.path, () => Date.UTC(2025, 0, 1));
    const refused = (() => {
      try {
        lockDataDir(dir.path);
        return null;
      } catch (err) {
        return err;
      }
    })();
    expect(isCityError(refused) && refused.code).toBe('PLATFORM_DATA_DIR_IN_USE');
    expect((refused as Error).message).toContain(`pid ${process.pid}`);
    expect((refused as Error).message).toContain('2025-01-01T00:00:00.000Z');
    first.close();
    first.close();
    const second = lockDataDir(dir.path);
    second.close();
  });
});
