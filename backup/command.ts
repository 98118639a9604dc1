import type { Command } from 'commander';
import { loadConfig } from '../core/config.ts';
import { progressBar as drawProgress } from '../core/progress-bar.ts';
import { type BackupProgress, createBackup } from './create-backup.ts';
import { restoreBackup } from './restore-backup.ts';

const MIB = 1024 * 1024;
const mib = (bytes: number): string => (bytes / MIB).toFixed(1);

/** Bytes copied, on stderr: stdout keeps only the result, for scripts. Drawn on a terminal or with --progress. */
function progressBar(): BackupProgress {
  const bar = drawProgress('backup |{bar}| {percentage}% {copied}/{size} MiB {file}');
  return {
    start(total) {
      bar.start(total, { copied: mib(0), size: mib(total), file: '' });
    },
    update(copied, file) {
      bar.update(copied, { copied: mib(copied), file });
    },
    stop() {
      bar.stop();
    },
  };
}

const dataDirOf = (opt: string | undefined): string => opt ?? loadConfig(process.env).dataDir;

export function registerBackupCommands(program: Command): void {
  program
    .command('backup')
    .description(
      'copy every embedded database of DATA_DIR into one .tar.gz with a manifest, while the platform runs or not',
    )
    .requiredOption('--out <file>', 'the archive to write (e.g. citymetrics-2026-12-01.tar.gz)')
    .option('--data-dir <dir>', 'the data directory (default DATA_DIR)')
    .action(async (opts: { out: string; dataDir?: string }) => {
      const result = await createBackup({
        dataDir: dataDirOf(opts.dataDir),
        out: opts.out,
        progress: progressBar(),
      });
      const files = result.manifest.files.map(
        (f) => `${f.name} (schema ${f.schemaVersion}, ${mib(f.bytes)} MiB)`,
      );
      process.stdout.write(
        `backup written: ${result.archive} (${mib(result.archiveBytes)} MiB) holding ${files.join(', ')}\n`,
      );
    });

  program
    .command('restore')
    .description(
      'write the databases of a backup archive into DATA_DIR, after checking it; refused while a platform runs there',
    )
    .argument('<file>', 'the archive made by citymetrics backup')
    .option('--data-dir <dir>', 'the data directory to restore into (default DATA_DIR)')
    .option(
      '--force',
      'restore into a non-empty data directory, moving its files aside (never deleting them)',
    )
    .action(async (file: string, opts: { dataDir?: string; force?: boolean }) => {
      const result = await restoreBackup({
        archive: file,
        dataDir: dataDirOf(opts.dataDir),
        force: opts.force,
      });
      const { manifest } = result;
      process.stdout.write(
        `restored ${manifest.files.map((f) => f.name).join(', ')} into ${result.dataDir} from the backup of ` +
          `${manifest.createdAt} (citymetrics ${manifest.citymetricsVersion})\n`,
      );
      if (result.movedAside !== null)
        process.stdout.write(`the files that were there are kept in ${result.movedAside}\n`);
      process.stdout.write('start the platform on it with: citymetrics start\n');
    });
}
