import type { Command } from 'commander';
import { type ApiOptions, apiClientFor, printJson, withApiOptions } from '../../core/cli-options.ts';

/**
 * `citymetrics report send <month>` and `report list [month]`: the monthly report pack through the API of
 * a running platform (POST and GET /api/reports), so the platform's own targets, retries and record apply.
 */

interface DeliveryJson {
  id: number;
  month: string;
  version: number;
  target: string;
  destination: string;
  trigger: string;
  state: string;
  attempts: number;
  lastError: string | null;
  deliveredAt: string | null;
}

const line = (d: DeliveryJson): string =>
  `${String(d.id).padStart(5)} ${d.month} v${String(d.version).padEnd(3)} ${d.target.padEnd(8)} ${d.state.padEnd(10)} ${String(d.attempts).padStart(2)} attempt(s) ${d.trigger.padEnd(9)} ${d.deliveredAt ?? d.lastError ?? ''}  ${d.destination}\n`;

export function registerReportCommands(program: Command): void {
  const report = program
    .command('report')
    .description('monthly report packs: send on demand, list deliveries');

  withApiOptions(report.command('send <month>'), 'admin API key (or CITYMETRICS_TOKEN)')
    .description("deliver a closed month's report pack (YYYY-MM) to the configured folder and webhook now")
    .option('--json', 'print the API answer as JSON')
    .action(async (month: string, o: ApiOptions & { json?: boolean }) => {
      const sent = await apiClientFor(o).call<{
        manifest: { month: string; version: number; status: string };
        deliveries: DeliveryJson[];
      }>('POST', `/api/reports/${encodeURIComponent(month)}`);
      if (o.json) return printJson(sent);
      const m = sent.manifest;
      process.stdout.write(
        `pack ${m.month} v${m.version} (${m.status}): ${sent.deliveries.length} delivery(ies) queued\n`,
      );
      for (const d of sent.deliveries) process.stdout.write(line(d));
      process.stdout.write(`follow them with: citymetrics report list ${m.month}\n`);
    });

  withApiOptions(report.command('list [month]'))
    .description('deliveries, newest first (of one month when given), with state, attempts and last error')
    .option('--json', 'print the API answer as JSON')
    .action(async (month: string | undefined, o: ApiOptions & { json?: boolean }) => {
      const client = apiClientFor(o);
      const answer =
        month === undefined
          ? await client.call<{ deliveries: DeliveryJson[] }>('GET', '/api/reports')
          : await client.call<{ deliveries: DeliveryJson[] }>(
              'GET',
              `/api/reports/${encodeURIComponent(month)}`,
            );
      if (o.json) return printJson(answer);
      for (const d of answer.deliveries) process.stdout.write(line(d));
      process.stdout.write(`${answer.deliveries.length} deliveries\n`);
    });
}
