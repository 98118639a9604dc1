import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ReportPack } from './build-pack.ts';
import { DeliveryAttemptError, type DeliveryTarget } from './delivery-target.ts';

/** fsync of a folder, so the rename that published it survives a power cut (no-op where folders cannot be opened). */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => null);
  if (handle === null) return;
  try {
    await handle.sync().catch(() => {});
  } finally {
    await handle.close();
  }
}

async function writeSynced(file: string, body: Buffer): Promise<void> {
  const handle = await open(file, 'wx');
  try {
    await handle.writeFile(body);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Whether `dir` already holds exactly the pack's files (a redelivery, or a crash after the rename). */
async function holdsPack(dir: string, pack: ReportPack): Promise<boolean> {
  try {
    for (const f of pack.files) {
      const body = await readFile(join(dir, f.name));
      if (createHash('sha256').update(body).digest('hex') !== f.sha256) return false;
    }
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes a pack to `<dir>/<YYYY-MM>/v<version>/`. The files are written and fsynced in a hidden temporary
 * folder beside it, which is then renamed into place: a reader (a sync client, a file share) sees no pack or
 * the whole pack, never part of one. A folder already holding the same bytes counts as delivered; one holding
 * other bytes is moved aside first and removed once the new one is in place.
 */
export class FolderTarget implements DeliveryTarget {
  readonly kind = 'folder' as const;
  readonly destination: string;

  constructor(dir: string) {
    this.destination = resolve(dir);
  }

  /** Where a pack of this target lives. */
  folderOf(month: string, version: number): string {
    return join(this.destination, month, `v${version}`);
  }

  async deliver(pack: ReportPack, _deliveryId: number, signal: AbortSignal): Promise<void> {
    const monthDir = join(this.destination, pack.month);
    const final = this.folderOf(pack.month, pack.version);
    const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
    const temp = join(monthDir, `.v${pack.version}.tmp-${tag}`);
    try {
      if (await holdsPack(final, pack)) return;
      await mkdir(temp, { recursive: true });
      for (const f of pack.files) {
        signal.throwIfAborted();
        await writeSynced(join(temp, f.name), f.body);
      }
      await syncDir(temp);
      const aside = join(monthDir, `.v${pack.version}.old-${tag}`);
      const replaced = await rename(final, aside).then(
        () => true,
        (err: NodeJS.ErrnoException) => {
          if (err.code === 'ENOENT') return false;
          throw err;
        },
      );
      await rename(temp, final);
      await syncDir(monthDir);
      if (replaced) await rm(aside, { recursive: true, force: true });
    } catch (err) {
      await rm(temp, { recursive: true, force: true }).catch(() => {});
      if (signal.aborted) throw err;
      const e = err as NodeJS.ErrnoException;
      throw new DeliveryAttemptError(`folder ${final}: ${e.code ?? ''} ${e.message}`.trim(), true, {
        cause: err,
      });
    }
  }

  /** Hidden temporary folders left by a crash mid-write, for the start-up sweep. */
  async leftovers(): Promise<string[]> {
    const out: string[] = [];
    const months = await readdir(this.destination).catch(() => [] as string[]);
    for (const m of months.filter((n) => /^\d{4}-\d{2}$/.test(n))) {
      const names = await readdir(join(this.destination, m)).catch(() => [] as string[]);
      for (const n of names) if (/^\.v\d+\.(tmp|old)-/.test(n)) out.push(join(this.destination, m, n));
    }
    return out;
  }
}
