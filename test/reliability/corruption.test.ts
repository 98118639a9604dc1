import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, type TempDir } from '../helpers/temp-dir.ts';
import { freePorts, PlatformProcess } from './platform-process.ts';

/**
 * Corruption: a damaged or foreign file in DATA_DIR stops `citymetrics start` with a clear error naming
 * the file (STORE_CORRUPT) and exit code 1, and leaves the file exactly as it was: never a silent reset.
 * Files made by a real first start are damaged one at a time.
 */
const hash = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

const damages: Array<{ name: string; apply(file: string): void }> = [
  {
    name: 'random bytes',
    apply: (f) => writeFileSync(f, Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 7919) % 256))),
  },
  {
    name: 'text file',
    apply: (f) => writeFileSync(f, 'these are not the readings you are looking for\n'.repeat(100)),
  },
  {
    name: 'foreign SQLite database',
    apply: (f) => {
      writeFileSync(f, '');
      const db = new Database(f);
      db.exec(
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers (name) VALUES ('x')",
      );
      db.close();
    },
  },
  {
    name: 'header intact, pages truncated',
    apply: (f) => {
      const bytes = readFileSync(f);
      writeFileSync(f, bytes.subarray(0, Math.min(bytes.length - 1, 4096 + 100)));
    },
  },
];

describe('a damaged or foreign file in DATA_DIR', () => {
  let pristine: TempDir;
  let files: string[];
  beforeAll(async () => {
    pristine = makeTempDir('citymetrics-pristine-');
    const p = new PlatformProcess(pristine.path, await freePorts());
    await p.start();
    // A device and a reading, so each file holds real pages beyond its header.
    const dev = await p.api<{ id: string }>('POST', '/api/devices', {
      installedAt: new Date(Date.now() - 7 * 86_400_000).toISOString(), // readings go back as far as the late window
      kind: 'noise-monitor',
      district: 'Old Town',
    });
    expect(dev.status).toBe(201);
    expect((await p.kill('SIGTERM')).code).toBe(0);
    files = readdirSync(pristine.path).filter((f) => f.endsWith('.db'));
  }, 60_000);
  afterAll(() => pristine.remove());

  it('the platform keeps its data in these files', () => {
    expect(files).toEqual(expect.arrayContaining(['registry.db', 'access.db', 'log.db', 'series.db']));
  });

  // Each file and each kind of damage at least once (a full start costs seconds: not the whole cross product;
  // the stores' own tests cover every damage per file in-process).
  const pick = (file: string, damage: string) => ({
    file,
    damage,
    apply: damages.find((d) => d.name === damage)!.apply,
  });
  const matrix = [
    pick('registry.db', 'random bytes'),
    pick('access.db', 'foreign SQLite database'),
    pick('log.db', 'header intact, pages truncated'),
    pick('log.db', 'foreign SQLite database'),
    pick('series.db', 'text file'),
    pick('series.db', 'foreign SQLite database'),
  ];

  it.each(matrix)(
    '$file, $damage → STORE_CORRUPT naming the file, exit 1, file untouched',
    { timeout: 30_000 },
    async ({ file, apply }) => {
      const dir = makeTempDir('citymetrics-corrupt-');
      try {
        for (const f of files) writeFileSync(join(dir.path, f), readFileSync(join(pristine.path, f)));
        const target = join(dir.path, file);
        apply(target);
        const before = hash(target);
        const p = new PlatformProcess(dir.path, await freePorts());
        p.spawn();
        const exit = await p.whenExited();
        expect(exit.code).toBe(1);
        expect(p.output).toContain('STORE_CORRUPT');
        expect(p.output).toContain(target);
        expect(hash(target)).toBe(before);
      } finally {
        dir.remove();
      }
    },
  );
});
