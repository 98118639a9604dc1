import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { extract } from 'tar';
import { CityError } from '../core/errors.ts';
import { lockDataDir } from '../core/instance-lock.ts';
import { citymetricsVersion, dataFileNamed } from './data-files.ts';
import { MANIFEST_FORMAT_VERSION, MANIFEST_NAME, type Manifest, manifestSchema } from './manifest.ts';
import { sha256File } from './sha256-file.ts';

export interface RestoreOptions {
  archive: string;
  dataDir: string;
  /** Restore into a data directory that holds files: they are moved aside first, never deleted. */
  force?: boolean;
  now?: () => number;
}

export interface RestoreResult {
  manifest: Manifest;
  dataDir: string;
  /** where the files that were in `dataDir` went (`--force`), null when it was empty */
  movedAside: string | null;
}

/** The instance lock's own files: present in a data directory that no platform holds any more. */
const LOCK_FILES = new Set(['instance.lock', 'instance.lock.json', 'instance.lock-journal']);

const invalid = (archive: string, why: string, cause?: unknown): CityError =>
  new CityError('BACKUP_ARCHIVE_INVALID', `${archive}: ${why}`, { details: { archive }, cause });

/** Unpacks into `staging` only the entries a backup may hold; anything else makes the archive invalid. */
async function unpack(archive: string, staging: string): Promise<void> {
  const unexpected: string[] = [];
  try {
    await extract({
      file: archive,
      cwd: staging,
      strict: true,
      filter: (path, entry) => {
        const ok =
          'type' in entry &&
          entry.type === 'File' &&
          (path === MANIFEST_NAME || /^[a-z][a-z0-9-]*\.db$/.test(path));
        if (!ok) unexpected.push(path);
        return ok;
      },
    });
  } catch (err) {
    throw invalid(
      archive,
      `cannot be read as a gzip-compressed tar archive (${(err as Error).message})`,
      err,
    );
  }
  if (unexpected.length > 0) throw invalid(archive, `holds entries no backup has: ${unexpected.join(', ')}`);
}

function readManifest(archive: string, staging: string): Manifest {
  const path = join(staging, MANIFEST_NAME);
  if (!existsSync(path)) throw invalid(archive, `no ${MANIFEST_NAME}: not a citymetrics backup`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw invalid(archive, `${MANIFEST_NAME} is not JSON`, err);
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw invalid(archive, `${MANIFEST_NAME} is not a citymetrics backup manifest (${issues.join('; ')})`);
  }
  return parsed.data;
}

/** Refuses what this release cannot open, before anything is checksummed or written. */
function checkKnown(archive: string, manifest: Manifest): void {
  const newer = (why: string) =>
    new CityError(
      'BACKUP_SCHEMA_NEWER',
      `${archive}: ${why}; it was made by citymetrics ${manifest.citymetricsVersion}, this is ` +
        `${citymetricsVersion()}: restore it with citymetrics ${manifest.citymetricsVersion} or later`,
      { details: { archive, madeBy: manifest.citymetricsVersion } },
    );
  if (manifest.formatVersion > MANIFEST_FORMAT_VERSION)
    throw newer(`archive format ${manifest.formatVersion}, this release reads ${MANIFEST_FORMAT_VERSION}`);
  for (const entry of manifest.files) {
    const known = dataFileNamed(entry.name);
    if (known === undefined) throw newer(`${entry.name} is a database this release does not know`);
    if (entry.schemaVersion > known.schemaVersion)
      throw newer(
        `${entry.name} (${known.what}) has schema version ${entry.schemaVersion}, this release knows up to ` +
          `${known.schemaVersion}`,
      );
    if (entry.applicationId !== known.applicationId)
      throw invalid(
        archive,
        `${entry.name} is listed with application_id ${entry.applicationId}, not a ${known.what}`,
      );
  }
}

/** Every file as the manifest says: size, SHA-256, and the SQLite header it claims. */
async function checkFiles(archive: string, staging: string, manifest: Manifest): Promise<void> {
  const listed = new Set(manifest.files.map((f) => f.name));
  const extra = readdirSync(staging).filter((n) => n !== MANIFEST_NAME && !listed.has(n));
  if (extra.length > 0) throw invalid(archive, `holds files the manifest does not list: ${extra.join(', ')}`);
  for (const entry of manifest.files) {
    const path = join(staging, entry.name);
    if (!existsSync(path)) throw invalid(archive, `${entry.name} is listed in the manifest but missing`);
    const bytes = statSync(path).size;
    const sha256 = await sha256File(path);
    if (bytes !== entry.bytes || sha256 !== entry.sha256)
      throw new CityError(
        'BACKUP_CHECKSUM_MISMATCH',
        `${archive}: ${entry.name} is ${bytes} bytes with SHA-256 ${sha256}, the manifest says ${entry.bytes} ` +
          `bytes with ${entry.sha256}: the archive is damaged, restore another one`,
        { details: { archive, file: entry.name } },
      );
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      const appId = db.pragma('application_id', { simple: true }) as number;
      const version = db.pragma('user_version', { simple: true }) as number;
      if (appId !== entry.applicationId || version !== entry.schemaVersion)
        throw invalid(
          archive,
          `${entry.name} has application_id ${appId} and schema ${version}, the manifest says ` +
            `${entry.applicationId} and ${entry.schemaVersion}`,
        );
    } finally {
      db.close();
    }
  }
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes the databases of a backup archive into `dataDir`. Nothing in `dataDir` changes before the whole
 * archive is checked (manifest, versions this release can open, checksums); the data directory is then
 * taken with the platform's own instance lock for the length of the restore, so a platform running on it
 * refuses the restore with PLATFORM_DATA_DIR_IN_USE (naming its pid), and none can start half-way through.
 */
export async function restoreBackup(opts: RestoreOptions): Promise<RestoreResult> {
  const now = opts.now ?? Date.now;
  const archive = resolve(opts.archive);
  const dataDir = resolve(opts.dataDir);
  if (!existsSync(archive) || !statSync(archive).isFile()) throw invalid(archive, 'no such file');
  mkdirSync(dirname(dataDir), { recursive: true });
  // A sibling of the data directory: on the same file system, so the files are renamed into place.
  const staging = mkdtempSync(join(dirname(dataDir), `.${basename(dataDir)}-restore-`));
  try {
    await unpack(archive, staging);
    const manifest = readManifest(archive, staging);
    checkKnown(archive, manifest);
    await checkFiles(archive, staging, manifest);

    mkdirSync(dataDir, { recursive: true });
    const lock = lockDataDir(dataDir, now);
    try {
      const present = readdirSync(dataDir).filter((n) => !LOCK_FILES.has(n));
      let movedAside: string | null = null;
      if (present.length > 0) {
        const aside = `${dataDir}.before-restore-${new Date(now()).toISOString().replace(/[:.]/g, '-')}`;
        if (opts.force !== true)
          throw new CityError(
            'BACKUP_TARGET_NOT_EMPTY',
            `${dataDir} holds ${present.slice(0, 5).join(', ')}${present.length > 5 ? ', ...' : ''}: restore ` +
              'into an empty directory, or add --force to move these files aside first (nothing is deleted)',
            { field: 'DATA_DIR', details: { dataDir, present } },
          );
        mkdirSync(aside);
        for (const name of present) renameSync(join(dataDir, name), join(aside, name));
        movedAside = aside;
      }
      for (const entry of manifest.files) {
        const target = join(dataDir, entry.name);
        fsyncPath(join(staging, entry.name));
        renameSync(join(staging, entry.name), target);
      }
      fsyncPath(dataDir);
      return { manifest, dataDir, movedAside };
    } finally {
      lock.close();
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
