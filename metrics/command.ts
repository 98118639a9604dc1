import { readFileSync, writeFileSync } from 'node:fs';
import { extname } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';

/**
 * `citymetrics kpi ...` and `citymetrics profile set`: KPIs, manual values, month close and exports from the
 * command line, through the REST API of a running platform (like `devices`), so the running engine sees
 * every change at once and the same validation applies.
 */
interface ApiOptions {
  api: string;
  token?: string;
}

const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

async function request(
  opts: ApiOptions,
  method: string,
  path: string,
  body?: { json: unknown } | { raw: Buffer; type: string },
): Promise<Response> {
  const token = opts.token ?? process.env.CITYMETRICS_TOKEN ?? process.env.ADMIN_TOKEN;
  if (!token) throw new Error('an API key is needed: pass --token or set CITYMETRICS_TOKEN');
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  let payload: string | Blob | undefined;
  if (body !== undefined && 'json' in body) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body.json);
  } else if (body !== undefined) {
    headers['content-type'] = body.type;
    payload = new Blob([new Uint8Array(body.raw)], { type: body.type });
  }
  let res: Response;
  try {
    res = await fetch(new URL(path, opts.api), { method, headers, body: payload });
  } catch (err) {
    throw new Error(
      `cannot reach ${opts.api} (${(err as Error).message}): is the platform running? (npm start)`,
    );
  }
  if (!res.ok) {
    const text = await res.text();
    let error:
      | { code?: string; message?: string; field?: string; details?: { errors?: unknown[] } }
      | undefined;
    try {
      error = (JSON.parse(text) as { error?: typeof error }).error;
    } catch {
      // not JSON: the text is the message
    }
    const rows = (error?.details?.errors ?? []) as Array<{ row: number; column: string; message: string }>;
    const lines = rows.slice(0, 50).map((e) => `\n  row ${e.row}, ${e.column}: ${e.message}`);
    throw new Error(
      `${res.status} ${error?.code ?? ''}: ${error?.message ?? text}${error?.field ? ` (field ${error.field})` : ''}${lines.join('')}`,
    );
  }
  return res;
}

const json = async (res: Response): Promise<unknown> => {
  const text = await res.text();
  return text ? (JSON.parse(text) as unknown) : null;
};

const print = (value: unknown): void => {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
};

const number = (v: string): number => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('a number');
  return n;
};

const fmt = (v: number | null | undefined): string =>
  v === null || v === undefined ? 'NR' : Math.abs(v) >= 100 ? v.toFixed(1) : v.toPrecision(4);

export function registerKpiCommands(program: Command): void {
  const withApi = (cmd: Command) =>
    cmd
      .option('--api <url>', 'platform API', process.env.CITYMETRICS_API ?? 'http://localhost:3000')
      .option('--token <key>', 'API key (or CITYMETRICS_TOKEN); analyst or admin to change anything');
  const kpi = program.command('kpi').description('U4SSC KPIs: values, manual entry, month close, exports');

  withApi(kpi.command('list'))
    .description('KPIs with their month-to-date and year-to-date values and bands')
    .option('--dimension <name>')
    .option('--obtained <how>', 'sensor | registry | manual | mixed')
    .option('--json', 'print the API answer as JSON')
    .action(async (o: ApiOptions & { dimension?: string; obtained?: string; json?: boolean }) => {
      const q = new URLSearchParams({
        ...(o.dimension ? { dimension: o.dimension } : {}),
        ...(o.obtained ? { obtained: o.obtained } : {}),
      });
      const page = (await json(await request(o, 'GET', `/api/kpis?${q}`))) as {
        items: Array<{
          compactCode: string;
          name: string;
          unit: string;
          current: Record<string, { value: number | null; provisional: boolean } | null>;
          score: { band: string } | null;
        }>;
      };
      if (o.json) return print(page);
      for (const k of page.items) {
        const mtd = k.current['month-to-date'];
        const ytd = k.current['year-to-date'];
        process.stdout.write(
          `${k.compactCode.padEnd(14)} ${k.name.slice(0, 44).padEnd(44)} MTD ${fmt(mtd?.value).padStart(9)} YTD ${fmt(ytd?.value).padStart(9)} ${k.unit.slice(0, 24).padEnd(24)} ${k.score?.band ?? ''}\n`,
        );
      }
    });

  withApi(kpi.command('set <code>'))
    .description('enter a manual value (a sensor-derived KPI needs --override)')
    .requiredOption('--period <label>', 'YYYY-MM, YYYY-Qn or YYYY')
    .requiredOption('--value <n>', 'the value', number)
    .requiredOption('--unit <unit>', "the KPI's unit (checked)")
    .requiredOption('--quality <class>', 'data-quality class, e.g. accurate-measurement')
    .requiredOption('--source <text>', 'who published the figure')
    .option('--data-point <name>', 'data point of a multi-point KPI')
    .option('--evidence <url-or-note>')
    .option('--override', 'replace a sensor-derived value (recorded and shown as an override)')
    .action(
      async (
        code: string,
        o: ApiOptions & {
          period: string;
          value: number;
          unit: string;
          quality: string;
          source: string;
          dataPoint?: string;
          evidence?: string;
          override?: boolean;
        },
      ) => {
        const body = {
          period: o.period,
          value: o.value,
          unit: o.unit,
          dataQuality: o.quality,
          source: o.source,
          ...(o.dataPoint ? { dataPoint: o.dataPoint } : {}),
          ...(o.evidence ? { evidence: o.evidence } : {}),
          ...(o.override ? { override: true } : {}),
        };
        print(
          await json(
            await request(o, 'POST', `/api/kpis/${encodeURIComponent(code)}/values`, { json: body }),
          ),
        );
      },
    );

  withApi(kpi.command('import <file>'))
    .description('import a CSV or XLSX sheet of manual values (all or nothing; errors name row and column)')
    .action(async (file: string, o: ApiOptions) => {
      const ext = extname(file).toLowerCase();
      if (ext !== '.csv' && ext !== '.xlsx') throw new Error('the sheet must be a .csv or .xlsx file');
      const raw = readFileSync(file);
      const res = await request(o, 'POST', '/api/manual-inputs/import', {
        raw,
        type: ext === '.csv' ? 'text/csv' : XLSX_TYPE,
      });
      const out = (await json(res)) as { imported: number };
      process.stdout.write(`imported ${out.imported} value(s) from ${file}\n`);
    });

  withApi(kpi.command('close <period>'))
    .description('close a month (YYYY-MM) or year (YYYY) now: its roll-up is frozen as version 1')
    .action(async (period: string, o: ApiOptions) => {
      print(await json(await request(o, 'POST', `/api/rollups/${encodeURIComponent(period)}/close`)));
    });

  withApi(kpi.command('export <period>'))
    .description('download the roll-up of a month or a year')
    .option('--format <format>', 'csv | xlsx | json', 'xlsx')
    .requiredOption('--out <file>', 'where to write it')
    .action(async (period: string, o: ApiOptions & { format: string; out: string }) => {
      if (!['csv', 'xlsx', 'json'].includes(o.format)) throw new Error('--format must be csv, xlsx or json');
      const res = await request(o, 'GET', `/api/rollups/${encodeURIComponent(period)}/export.${o.format}`);
      const data = Buffer.from(await res.arrayBuffer());
      writeFileSync(o.out, data);
      process.stdout.write(`wrote ${o.out} (${data.length} bytes)\n`);
    });

  withApi(kpi.command('restatements <period>'))
    .description('restatements of a closed month or year')
    .action(async (period: string, o: ApiOptions) => {
      print(await json(await request(o, 'GET', `/api/rollups/${encodeURIComponent(period)}/restatements`)));
    });

  const profile = program
    .command('profile')
    .description('the city profile (population, households, area...)');
  withApi(profile.command('set'))
    .description('set profile figures from a date (earlier periods keep earlier figures)')
    .option('--population <n>', 'inhabitants', number)
    .option('--households <n>', 'households', number)
    .option('--area-km2 <n>', 'area in km²', number)
    .option('--gdp <n>', 'city GDP in the profile currency', number)
    .option('--currency <code>', 'ISO 4217, e.g. EUR')
    .option('--name <name>', 'city name')
    .option('--effective-from <date>', 'local date YYYY-MM-DD (default today)')
    .option('--quality <class>', 'data-quality class of the figures')
    .option('--source <text>', 'where the figures come from')
    .action(
      async (
        o: ApiOptions & {
          population?: number;
          households?: number;
          areaKm2?: number;
          gdp?: number;
          currency?: string;
          name?: string;
          effectiveFrom?: string;
          quality?: string;
          source?: string;
        },
      ) => {
        const body = Object.fromEntries(
          Object.entries({
            population: o.population,
            households: o.households,
            areaKm2: o.areaKm2,
            gdp: o.gdp,
            currency: o.currency,
            name: o.name,
            effectiveFrom: o.effectiveFrom,
            dataQuality: o.quality,
            source: o.source,
          }).filter(([, v]) => v !== undefined),
        );
        print(await json(await request(o, 'PUT', '/api/city-profile', { json: body })));
      },
    );
}
