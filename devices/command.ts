import { type Command, InvalidArgumentError } from 'commander';

/**
 * `citymetrics devices ...`: provisioning from the command line. It goes through the REST API of a running
 * platform (never around it), so the running registry, its cache and the gateway see every change at once.
 */
interface ApiOptions {
  api: string;
  token?: string;
}

async function call(opts: ApiOptions, method: string, path: string, body?: unknown): Promise<unknown> {
  const token = opts.token ?? process.env.CITYMETRICS_TOKEN ?? process.env.ADMIN_TOKEN;
  if (!token) throw new Error('an admin API key is needed: pass --token or set CITYMETRICS_TOKEN');
  let res: Response;
  try {
    res = await fetch(new URL(path, opts.api), {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
  } catch (err) {
    throw new Error(
      `cannot reach ${opts.api} (${(err as Error).message}): is the platform running? (npm start)`,
    );
  }
  const text = await res.text();
  const json = text ? (JSON.parse(text) as unknown) : null;
  if (!res.ok) {
    const error = (json as { error?: { code?: string; message?: string; field?: string } } | null)?.error;
    throw new Error(
      `${res.status} ${error?.code ?? ''}: ${error?.message ?? text}${error?.field ? ` (field ${error.field})` : ''}`,
    );
  }
  return json;
}

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

const print = (value: unknown): void => {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
};

export function registerDeviceCommands(program: Command): void {
  const devices = program.command('devices').description('provision and manage devices through the API');
  const withApi = (cmd: Command) =>
    cmd
      .option('--api <url>', 'platform API', process.env.CITYMETRICS_API ?? 'http://localhost:3000')
      .option('--token <key>', 'admin API key (or CITYMETRICS_TOKEN)');

  withApi(devices.command('provision'))
    .description('create a device; prints its id and password (shown only this once)')
    .requiredOption('--kind <kind>', 'device kind (see GET /api/device-kinds)')
    .requiredOption('--district <name>', 'district the device is in')
    .option('--name <name>', 'readable name')
    .option('--lat <deg>', 'latitude', Number)
    .option('--lon <deg>', 'longitude', Number)
    .option('--attr <name=value>', 'asset attribute, repeatable (e.g. segmentLengthKm=1.2)', parseAttribute)
    .action(
      async (
        o: ApiOptions & {
          kind: string;
          district: string;
          name?: string;
          lat?: number;
          lon?: number;
          attr?: Record<string, string | number | boolean>;
        },
      ) => {
        const body = {
          kind: o.kind,
          district: o.district,
          ...(o.name ? { name: o.name } : {}),
          ...(o.lat !== undefined && o.lon !== undefined ? { location: { lat: o.lat, lon: o.lon } } : {}),
          ...(o.attr ? { attributes: o.attr } : {}),
        };
        print(await call(o, 'POST', '/api/devices', body));
      },
    );

  withApi(devices.command('list'))
    .description('list devices with online state and last seen')
    .option('--kind <kind>')
    .option('--district <name>')
    .action(async (o: ApiOptions & { kind?: string; district?: string }) => {
      const q = new URLSearchParams({
        limit: '1000',
        ...(o.kind ? { kind: o.kind } : {}),
        ...(o.district ? { district: o.district } : {}),
      });
      const page = (await call(o, 'GET', `/api/devices?${q}`)) as {
        items: Array<Record<string, unknown>>;
        total: number;
      };
      for (const d of page.items) {
        process.stdout.write(
          `${String(d.id).padEnd(18)} ${String(d.kind).padEnd(28)} ${String(d.district).padEnd(14)} ${d.online ? 'online ' : 'offline'} ${d.status}\n`,
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
        print(await call(o, 'POST', `/api/devices/${encodeURIComponent(id)}/${name}`));
      });
  }
}
