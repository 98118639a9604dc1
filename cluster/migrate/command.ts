import type { Command } from 'commander';
import { loadConfig } from '../../core/config.ts';
import { CityError } from '../../core/errors.ts';
import { createLogger } from '../../core/logger.ts';
import { type ProgressBar, progressBar } from '../../core/progress-bar.ts';
import { type MigrationCounts, type MigrationProgress, migrateToPostgres } from './migrate-to-postgres.ts';

interface MigrateOptions {
  to: string;
  postgresUrl?: string;
  dataDir?: string;
}

/** One bar per stage, on stderr (stdout keeps the result, for scripts). */
function stageProgress(): MigrationProgress {
  let bar: ProgressBar | null = null;
  return {
    stage(name, total) {
      bar?.stop();
      bar = progressBar(`${name.padEnd(11)} |{bar}| {percentage}% {value}/{total}`);
      bar.start(total);
    },
    advance(done) {
      bar?.update(done);
    },
    done() {
      bar?.stop();
      bar = null;
    },
  };
}

const LABELS: Record<keyof MigrationCounts, string> = {
  devices: 'devices',
  deviceLifeChanges: 'device interval changes',
  apiKeys: 'API keys',
  tileLayouts: 'tile layouts',
  manualValues: 'manual values (with superseded ones)',
  profileEntries: 'city profile entries',
  targets: 'targets',
  rollupVersions: 'closed period versions',
  restatements: 'restatements',
  alertRules: 'alert rules',
  alerts: 'alerts',
  readings: 'device readings',
};

export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description(
      "move a single-process city (DATA_DIR's SQLite files, the platform stopped) into a cluster's empty PostgreSQL: devices, keys, KPI history, alert rules and alerts, and readings, with a count check at the end",
    )
    .requiredOption('--to <engine>', 'where to: postgres')
    .option('--postgres-url <url>', 'the empty target database (default POSTGRES_URL)')
    .option('--data-dir <dir>', 'the data directory to read (default DATA_DIR)')
    .action(async (opts: MigrateOptions) => {
      if (opts.to !== 'postgres')
        throw new CityError('CONFIG_INVALID', `--to ${opts.to}: the one target is postgres`, {
          field: '--to',
        });
      const config = loadConfig(process.env);
      const postgresUrl = opts.postgresUrl ?? config.postgresUrl;
      if (postgresUrl === undefined)
        throw new CityError(
          'CONFIG_INVALID',
          'give --postgres-url (or POSTGRES_URL): the empty target database',
          {
            field: '--postgres-url',
          },
        );
      const dataDir = opts.dataDir ?? config.dataDir;
      const { source } = await migrateToPostgres({
        dataDir,
        postgresUrl,
        config,
        logger: createLogger(process.env.LOG_LEVEL ?? 'warn'),
        progress: stageProgress(),
      });
      const lines = (Object.keys(LABELS) as Array<keyof MigrationCounts>).map(
        (k) => `  ${String(source[k]).padStart(10)}  ${LABELS[k]}`,
      );
      process.stdout.write(
        `migrated ${dataDir} into PostgreSQL; counted again there, every count equal:\n${lines.join('\n')}\n` +
          'Start the cluster roles on this POSTGRES_URL with STORE=postgres; the data directory is left as it was.\n',
      );
    });
}
