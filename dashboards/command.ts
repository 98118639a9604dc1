import { type Command, Option } from 'commander';
import { type ApiOptions, apiClientFor, printJson, withApiOptions } from '../core/cli-options.ts';
import { ROLES } from './http/roles.ts';

/**
 * `citymetrics keys ...`: API keys of a running platform, through its API (admin only). A key is shown once,
 * when it is made; the platform keeps only its hash.
 */
export function registerKeyCommands(program: Command): void {
  const keys = program.command('keys').description('API keys: list, create, revoke (admin key needed)');
  const withApi = (cmd: Command) => withApiOptions(cmd, 'admin API key (or CITYMETRICS_TOKEN)');

  withApi(keys.command('list'))
    .description('every key with its role, creation and revocation (never the keys themselves)')
    .option('--json', 'print the API answer as JSON')
    .action(async (o: ApiOptions & { json?: boolean }) => {
      const items = await apiClientFor(o).listKeys();
      if (o.json) return printJson(items);
      for (const k of items) {
        process.stdout.write(
          `${k.id.padEnd(34)} ${k.role.padEnd(9)} ${k.name.padEnd(24)} ${k.createdAt} ${k.revokedAt === null ? 'active' : `revoked ${k.revokedAt}`}\n`,
        );
      }
      process.stdout.write(`${items.length} keys\n`);
    });

  withApi(keys.command('create'))
    .description('make a key; prints it once (keep it: only its hash is stored)')
    .requiredOption('--name <name>', 'who or what uses the key, e.g. grafana')
    .addOption(new Option('--role <role>', 'what it may do').choices(ROLES).makeOptionMandatory())
    .option('--json', 'print the API answer as JSON')
    .action(async (o: ApiOptions & { name: string; role: string; json?: boolean }) => {
      const created = await apiClientFor(o).createKey({ name: o.name, role: o.role });
      if (o.json) return printJson(created);
      process.stdout.write(`${created.key}\n`);
      process.stderr.write(`key ${created.id} (${created.role}, ${created.name}): shown only now\n`);
    });

  withApi(keys.command('revoke <id>'))
    .description('revoke a key at once, live connections included (the last admin key cannot be revoked)')
    .action(async (id: string, o: ApiOptions) => {
      await apiClientFor(o).revokeKey(id);
      process.stdout.write(`revoked key ${id}\n`);
    });
}
