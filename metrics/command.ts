import { readFileSync, writeFileSync } from 'node:fs';
import { extname } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { type ApiOptions, apiClientFor, printJson, withApiOptions } from '../core/cli-options.ts';
import { CityError } from '../core/errors.ts';
import { progressBar } from '../core/progress-bar.ts';

/**
 * `citymetrics kpi ...` and `citymetrics profile set`: KPIs, manual values, month close and exports from the
 * command line, through the REST API of a running platform (like `devices`), so the running engine sees
 * every change at once and the same validation applies.
 */
const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

const MIB = 1024 * 1024;

const number = (v: string): number => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('a number');
  return n;
};

const fmt = (v: number | null | undefined): string =>
  v === null || v === undefined ? 'NR' : Math.abs(v) >= 100 ? v.toFixed(1) : v.toPrecision(4);

export function registerKpiCommands(program: Command): void {
  const withApi = (cmd: Command) =>
    withApiOptions(cmd, 'API key (or CITYMETRICS_TOKEN); analyst or admin to change anything');
  const kpi = program.command('kpi').description('U4SSC KPIs: values, manual entry, month close, exports');

  withApi(kpi.command('list'))
    .description('KPIs with their month-to-date and year-to-date values and bands')
    .option('--dimension <name>')
    .addOption(new Option('--obtained <how>').choices(['sensor', 'registry', 'manual', 'mixed']))
    .option('--json', 'print the API answer as JSON')
    .action(async (o: ApiOptions & { dimension?: string; obtained?: string; json?: boolean }) => {
      const page = (await apiClientFor(o).call('GET', '/api/kpis', {
        query: { dimension: o.dimension, obtained: o.obtained },
      })) as {
        items: Array<{
          compactCode: string;
          name: string;
          unit: string;
          current: Record<string, { value: number | null; provisional: boolean } | null>;
          score: { band: string } | null;
        }>;
      };
      if (o.json) return printJson(page);
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
        printJson(
          await apiClientFor(o).call('POST', `/api/kpis/${encodeURIComponent(code)}/values`, {
            body: { json: body },
          }),
        );
      },
    );

  withApi(kpi.command('import <file>'))
    .description('import a CSV or XLSX sheet of manual values (all or nothing; errors name row and column)')
    .action(async (file: string, o: ApiOptions) => {
      const ext = extname(file).toLowerCase();
      if (ext !== '.csv' && ext !== '.xlsx')
        throw new CityError('CLI_ARGUMENT_INVALID', `${file}: the sheet must be a .csv or .xlsx file`, {
          fix: 'save the sheet as .csv or .xlsx',
        });
      const client = apiClientFor(o);
      const raw = readFileSync(file);
      // The server checks and stores the whole sheet in one transaction: the bar shows sent, checked, stored.
      const bar = progressBar(`import |{bar}| {step} ${file}`);
      bar.start(2, { step: 'sending and checking' });
      try {
        const out = await client.call<{ imported: number }>('POST', '/api/manual-inputs/import', {
          body: { raw, type: ext === '.csv' ? 'text/csv' : XLSX_TYPE },
        });
        bar.update(2, { step: `stored ${out.imported} value(s)` });
        bar.stop();
        process.stdout.write(`imported ${out.imported} value(s) from ${file}\n`);
      } finally {
        bar.stop();
      }
    });

  withApi(kpi.command('close <period>'))
    .description('close a month (YYYY-MM) or year (YYYY) now: its roll-up is frozen as version 1')
    .action(async (period: string, o: ApiOptions) => {
      printJson(await apiClientFor(o).call('POST', `/api/rollups/${encodeURIComponent(period)}/close`));
    });

  withApi(kpi.command('export <period>'))
    .description('download the roll-up of a month or a year')
    .addOption(new Option('--format <format>').choices(['csv', 'xlsx', 'json']).default('xlsx'))
    .requiredOption('--out <file>', 'where to write it')
    .action(async (period: string, o: ApiOptions & { format: string; out: string }) => {
      const client = apiClientFor(o);
      const bar = progressBar(`export |{bar}| {received} MiB ${period}.${o.format}`);
      let data: Buffer;
      try {
        data = await client.download(`/api/rollups/${encodeURIComponent(period)}/export.${o.format}`, {
          onProgress: (received, total) => {
            const payload = { received: (received / MIB).toFixed(1) };
            // A year's roll-up is built before it is sent; without Content-Length the bar counts bytes only.
            if (received === 0) bar.start(total ?? 1, payload);
            else bar.update(total === null ? 0 : received, payload);
          },
        });
      } finally {
        bar.stop();
      }
      writeFileSync(o.out, data);
      process.stdout.write(`wrote ${o.out} (${data.length} bytes)\n`);
    });

  withApi(kpi.command('restatements <period>'))
    .description('restatements of a closed month or year')
    .action(async (period: string, o: ApiOptions) => {
      printJson(await apiClientFor(o).call('GET', `/api/rollups/${encodeURIComponent(period)}/restatements`));
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
        printJson(await apiClientFor(o).call('PUT', '/api/city-profile', { body: { json: body } }));
      },
    );
}
