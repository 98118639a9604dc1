import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isValidTimeZone } from '../../core/city-calendar.ts';
import { airQuality, cityOverview, noise, water } from './dashboards-environment.ts';
import { devices, electricity, ingestHealth, traffic } from './dashboards-operations.ts';
import { connectivity, emergency, heatAndBuildings, waste } from './dashboards-services.ts';
import { buildDashboard, type DashboardSpec } from './grafana-model.ts';

/**
 * Generates the provisioned Grafana dashboards from typed specs: `npm run grafana:build` writes
 * dashboards/grafana/dashboards/<name>.json (committed; a test checks they equal what this generates).
 * `--zone <IANA>` builds them for a city's time zone (panels and daily buckets); the committed files use
 * UTC, the config default. `--check` only compares and exits 1 when a file differs.
 */
export const DASHBOARDS: Readonly<Record<string, DashboardSpec>> = {
  'city-overview': cityOverview,
  'air-quality': airQuality,
  noise,
  water,
  electricity,
  traffic,
  waste,
  connectivity,
  emergency,
  'heat-and-buildings': heatAndBuildings,
  devices,
  'ingest-health': ingestHealth,
};

export const DEFAULT_ZONE = 'UTC';
export const OUTPUT_DIR = join(dirname(fileURLToPath(import.meta.url)), 'dashboards');

/** File name → file content, exactly as committed. */
export function renderDashboards(zone: string = DEFAULT_ZONE): Map<string, string> {
  if (!isValidTimeZone(zone)) throw new RangeError(`not an IANA time zone: ${zone}`);
  const out = new Map<string, string>();
  for (const [name, spec] of Object.entries(DASHBOARDS))
    out.set(`${name}.json`, `${JSON.stringify(buildDashboard(spec, zone), null, 2)}\n`);
  return out;
}

function main(argv: string[]): number {
  const zoneAt = argv.indexOf('--zone');
  const zone = zoneAt >= 0 ? (argv[zoneAt + 1] ?? '') : DEFAULT_ZONE;
  const outAt = argv.indexOf('--out');
  const dir = outAt >= 0 ? (argv[outAt + 1] ?? OUTPUT_DIR) : OUTPUT_DIR;
  const files = renderDashboards(zone);
  if (argv.includes('--check')) {
    const stale = [...files].filter(([name, text]) => {
      try {
        return readFileSync(join(dir, name), 'utf8') !== text;
      } catch {
        return true;
      }
    });
    for (const [name] of stale)
      console.error(`${name} differs from the generated dashboard: run npm run grafana:build`);
    return stale.length === 0 ? 0 : 1;
  }
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of files) writeFileSync(join(dir, name), text);
  console.log(`wrote ${files.size} dashboards (zone ${zone}) to ${dir}`);
  return 0;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1])
  process.exitCode = main(process.argv.slice(2));
