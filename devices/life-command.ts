import type { Command } from 'commander';
import { type ApiOptions, apiClientFor, printJson } from '../core/cli-options.ts';

/**
 * `citymetrics devices update|decommission|life`: a device's installed interval through the API
 * (`PATCH /api/devices/{id}`, `POST /api/devices/{id}/decommission`, `GET /api/devices/{id}/life`).
 */

/** "none" clears removedAt (installed again, with no end); anything else is sent as given (ISO). */
const removedAtOf = (v: string): string | null => (v === 'none' ? null : v);

export function registerLifeCommands(devices: Command, withApi: (cmd: Command) => Command): void {
  withApi(devices.command('update <id>'))
    .description('change a device: name, district or its installed interval (kept in its history)')
    .option('--name <name>', 'readable name')
    .option('--district <name>', 'district')
    .option('--installed-at <iso>', 'start of the installed interval')
    .option('--removed-at <iso|none>', 'end of the installed interval; none: still installed')
    .option('--force', 'change the interval even though stored readings then fall outside it')
    .action(
      async (
        id: string,
        o: ApiOptions & {
          name?: string;
          district?: string;
          installedAt?: string;
          removedAt?: string;
          force?: boolean;
        },
      ) => {
        const body = {
          ...(o.name ? { name: o.name } : {}),
          ...(o.district ? { district: o.district } : {}),
          ...(o.installedAt ? { installedAt: o.installedAt } : {}),
          ...(o.removedAt ? { removedAt: removedAtOf(o.removedAt) } : {}),
          ...(o.force ? { force: true } : {}),
        };
        printJson(
          await apiClientFor(o).call('PATCH', `/api/devices/${encodeURIComponent(id)}`, {
            body: { json: body },
          }),
        );
      },
    );

  withApi(devices.command('decommission <id>'))
    .description(
      'remove a device from service at --at (default now): its credentials stop working; it keeps its readings and history and counts in the periods it was installed for',
    )
    .option('--at <iso>', 'when it was removed (not later than now)')
    .option('--force', 'even though stored readings after --at then fall outside its interval')
    .action(async (id: string, o: ApiOptions & { at?: string; force?: boolean }) => {
      const body = { ...(o.at ? { at: o.at } : {}), ...(o.force ? { force: true } : {}) };
      printJson(
        await apiClientFor(o).call('POST', `/api/devices/${encodeURIComponent(id)}/decommission`, {
          body: { json: body },
        }),
      );
    });

  withApi(devices.command('life <id>'))
    .description('a device installed interval and every change of it (who, when, before, after)')
    .action(async (id: string, o: ApiOptions) => {
      printJson(await apiClientFor(o).call('GET', `/api/devices/${encodeURIComponent(id)}/life`));
    });
}
