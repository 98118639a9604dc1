import { existsSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { create as createTar } from 'tar';
import { CityError } from '../core/errors.ts';
import { storeCorrupt } from '../core/sqlite-file.ts';
import { citymetricsVersion, DATA_FILES, type DataFile } from './data-files.ts';
import {
  MANIFEST_FORMAT,
  MANIFEST_FORMAT_VERSION,
  MANIFEST_NAME,
  type Manifest,
  type ManifestFile,
} from './manifest.ts';
import { sha256File } from './sha256-file.ts';

/** Told as pages are copied; bytes are page counts times page size, so the total is known up front. */
export interface BackupProgress {
  start(totalBytes: number): void;
  update(copiedBytes: number, file: string): void;
  stop(): void;
}

export interface BackupOptions {
  dataDir: string;
  /** The archive to write (gzip-compressed tar); written under a temporary name, then renamed. */
  out: string;
  now?: () => number;
  progress?: BackupProgress;
  /** Pages copied per step of the online backup. Default 1024 (4 MiB at SQLite's default page size). */
  pagesPerStep?: number;
}

export interface BackupResult {
  archive: string;
  manifest: Manifest;
  /** size of the archive file */
  archiveBytes: number;
}

interface Source {
  file: DataFile;
  db: Database.Database;
  schemaVersion: number;
  bytes: number;
  copiedAt: number;
}

/**
 * Opens a read connection on one file and starts a read transaction on it: from the first read on, every
 * page the backup copies comes from that one WAL snapshot, whatever the running platform commits meanwhile.
 * Without it SQLite would restart a backup each time another process writes the file, and a busy series
 * store might never finish.
 */
function openSnapshot(path: string, file: DataFile, now: () => number): Source {
  // readonly: a backup never changes a file (no checkpoint, no journal mode switch) of a platform that runs.
  const db = new Database(path, { readonly: true, fileMustExist: true, timeout: 5_000 });
  try {
    db.exec('BEGIN DEFERRED');
    const applicationId = db.pragma('application_id', { simple: true }) as number;
    const schemaVersion = db.pragma('user_version', { simple: true }) as number;
    const pages = db.pragma('page_count', { simple: true }) as number;
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    if (applicationId !== file.applicationId)
      throw storeCorrupt(
        path,
        `not a citymetrics ${file.what} (application_id ${applicationId}): not backed up`,
      );
    return { file, db, schemaVersion, bytes: pages * pageSize, copiedAt: now() };
  } catch (err) {
    db.close();
    throw err;
  }
}

/**
 * A consistent online copy of every embedded database in `dataDir`, running platform or not, packed with
 * a manifest (release, schema version, size and SHA-256 of each file) into one .tar.gz.
 *
 * Snapshots are taken in DATA_FILES order, the durable log first (see there why that order keeps the
 * log and the series store restorable together), all before the first page is copied, so they are
 * milliseconds apart. While the copy runs the platform keeps writing; its WAL files only grow until the
 * copy ends, because a checkpoint cannot pass a snapshot still being read.
 */
export async function createBackup(opts: BackupOptions): Promise<BackupResult> {
  const now = opts.now ?? Date.now;
  const dataDir = resolve(opts.dataDir);
  const out = resolve(opts.out);
  const present = DATA_FILES.filter((f) => {
    const path = join(dataDir, f.name);
    return existsSync(path) && statSync(path).size > 0;
  });
  if (present.length === 0)
    throw new CityError(
      'BACKUP_NOTHING_TO_COPY',
      `${dataDir} holds none of ${DATA_FILES.map((f) => f.name).join(', ')}`,
      {
        field: 'DATA_DIR',
        details: { dataDir },
      },
    );
  if (!existsSync(dirname(out)))
    throw new CityError('CONFIG_INVALID', `--out: directory ${dirname(out)} does not exist`, {
      field: 'out',
    });

  const createdAt = now();
  const sources: Source[] = [];
  // Next to the archive, not in the OS temp dir: a copy of the series store may not fit a small /tmp.
  const staging = mkdtempSync(join(dirname(out), '.citymetrics-backup-'));
  const partial = `${out}.partial`;
  try {
    for (const file of present) sources.push(openSnapshot(join(dataDir, file.name), file, now));
    const total = sources.reduce((sum, s) => sum + s.bytes, 0);
    opts.progress?.start(total);
    let done = 0;
    const files: ManifestFile[] = [];
    for (const source of sources) {
      const target = join(staging, source.file.name);
      const pageSize = source.db.pragma('page_size', { simple: true }) as number;
      await source.db.backup(target, {
        progress: ({ totalPages, remainingPages }) => {
          opts.progress?.update(done + (totalPages - remainingPages) * pageSize, source.file.name);
          return opts.pagesPerStep ?? 1024;
        },
      });
      source.db.exec('COMMIT');
      source.db.close();
      done += source.bytes;
      opts.progress?.update(done, source.file.name);
      files.push({
        name: source.file.name,
        what: source.file.what,
        applicationId: source.file.applicationId,
        schemaVersion: source.schemaVersion,
        bytes: statSync(target).size,
        sha256: await sha256File(target),
        copiedAt: new Date(source.copiedAt).toISOString(),
      });
    }
    opts.progress?.stop();
    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      formatVersion: MANIFEST_FORMAT_VERSION,
      citymetricsVersion: citymetricsVersion(),
      createdAt: new Date(createdAt).toISOString(),
      dataDir,
      files,
    };
    writeFileSync(join(staging, MANIFEST_NAME), `${JSON.stringify(manifest, null, 2)}\n`);
    // The manifest first: a reader learns what the archive holds before the large files.
    await createTar({ gzip: true, file: partial, cwd: staging, portable: true }, [
      MANIFEST_NAME,
      ...files.map((f) => f.name),
    ]);
    renameSync(partial, out);
    return { archive: out, manifest, archiveBytes: statSync(out).size };
  } finally {
    opts.progress?.stop();
    for (const s of sources) if (s.db.open) s.db.close();
    rmSync(staging, { recursive: true, force: true });
    rmSync(partial, { force: true });
  }
}
