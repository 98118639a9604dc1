import { type Command, InvalidArgumentError, Option } from 'commander';
import { type ApiOptions, apiClientFor, printJson, withApiOptions } from '../core/cli-options.ts';
import { CityError } from '../core/errors.ts';
import { deviceKinds } from './kinds.ts';
import { registerLifeCommands } from './life-command.ts';

/**
 * `citymetrics devices ...`: provisioning from the command line. It goes through the REST API of a running
 * platform (never around it), so the running registry, its cache and the gateway see every change at once.
 */

const parseAttribute = (value: string, previous: Record<string, string | number | boolean> = {}) => {
  const eq = value.indexOf('=');
  if (eq < 1) throw new InvalidArgumentError('expected name=value');
  const raw = value.slice(eq + 1);
  const parsed =
    raw === 'true'
      ? true
      : raw === 'false'
        ? false
        : raw !== '' && Number.isFinite(Number(raw))
          ? Number(raw)
          : raw;
  return { ...previous, [value.slice(0, eq)]: parsed };
};

const number = (v: string): number => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('a number');
  return n;
};

const KIND_IDS = deviceKinds.map((k) => k.id);

export function registerDeviceCommands(program: Command): void {
  const devices = program.command('devices').description('provision and manage devices through the API');
  const withApi = (cmd: Command) => withApiOptions(cmd, 'admin API key (or CITYMETRICS_TOKEN)');

  withApi(devices.command('provision'))
    .description('create a device; prints its id and password (shown only this once)')
    .addOption(new Option('--kind <kind>', 'device kind').choices(KIND_IDS).makeOptionMandatory())
    .requiredOption('--district <name>', 'district the device is in')
    .option('--name <name>', 'readable name')
    .option('--lat <deg>', 'latitude', number)
    .option('--lon <deg>', 'longitude', number)
    .option('--attr <name=value>', 'asset attribute, repeatable (e.g. segmentLengthKm=1.2)', parseAttribute)
    .option('--installed-at <iso>', 'start of the installed interval (default now; earlier to back-fill)')
    .action(
      async (
        o: ApiOptions & {
          kind: string;
          district: string;
          name?: string;
          lat?: number;
          lon?: number;
          attr?: Record<string, string | number | boolean>;
          installedAt?: string;
        },
      ) => {
        printJson(
          await apiClientFor(o).provisionDevice({
            kind: o.kind,
            district: o.district,
            ...(o.name ? { name: o.name } : {}),
            ...(o.lat !== undefined && o.lon !== undefined ? { location: { lat: o.lat, lon: o.lon } } : {}),
            ...(o.attr ? { attributes: o.attr } : {}),
            ...(o.installedAt ? { installedAt: o.installedAt } : {}),
          }),
        );
      },
    );

  registerLifeCommands(devices, withApi);

  withApi(devices.command('list'))
    .description('list devices with online state and last seen')
    .addOption(new Option('--kind <kind>').choices(KIND_IDS))
    .option('--district <name>')
    .option('--json', 'print the API answer as JSON')
    .action(async (o: ApiOptions & { kind?: string; district?: string; json?: boolean }) => {
      const page = await apiClientFor(o).listDevices({ limit: 1000, kind: o.kind, district: o.district });
      if (o.json) return printJson(page);
      for (const d of page.items) {
        process.stdout.write(
          `${d.id.padEnd(18)} ${d.kind.padEnd(28)} ${d.district.padEnd(14)} ${d.online ? 'online ' : 'offline'} ${d.status}\n`,
        );
      }
      process.stdout.write(`${page.items.length} of ${page.total} devices\n`);
    });

  for (const [name, description] of [
    ['rotate-password', 'issue a new password (the old one stops working, connected sessions are cut)'],
    ['disable', 'disable a device (a connected device is disconnected at once)'],
    ['enable', 'enable a disabled device'],
  ] as const) {
    withApi(devices.command(`${name} <id>`))
      .description(description)
      .action(async (id: string, o: ApiOptions) => {
        printJson(await apiClientFor(o).deviceAction(id, name));
      });
  }

  withApi(devices.command('delete <id>'))
    .description(
      'remove a device that never stored a reading (a mistaken provisioning); a device with readings is decommissioned instead',
    )
    .option('--yes', 'confirm: deletion cannot be undone')
    .action(async (id: string, o: ApiOptions & { yes?: boolean }) => {
      if (!o.yes)
        throw new CityError('CLI_CONFIRMATION_REQUIRED', `deleting device ${id} cannot be undone`, {
          fix: `run it again with --yes: citymetrics devices delete ${id} --yes`,
        });
      await apiClientFor(o).deleteDevice(id);
      process.stdout.write(`deleted device ${id}\n`);
    });
}
