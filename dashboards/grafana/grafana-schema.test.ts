import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { OUTPUT_DIR } from './build-dashboards.ts';
import type { DashboardJson } from './grafana-json.ts';
import { GRAFANA_UNIT_IDS, isGrafanaUnit } from './grafana-units.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');

/**
 * Type-checks JSON texts as `DashboardJson` (@grafana/schema) with the project's compiler options: each
 * text becomes the object literal of a virtual module beside grafana-json.ts, so literal values are
 * checked against the schema's unions and unknown keys are excess properties. Returns the diagnostics
 * per name.
 */
function typeCheckDashboards(texts: ReadonlyMap<string, string>): Map<string, string[]> {
  const config = ts.getParsedCommandLineOfConfigFile(
    join(ROOT, 'tsconfig.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  );
  if (config === undefined) throw new Error('tsconfig.json not readable');
  const options = { ...config.options, types: [], noEmit: true };
  const virtual = new Map<string, string>();
  for (const [name, text] of texts)
    virtual.set(
      join(HERE, `__schema-check-${name.replace(/\W/g, '-')}.ts`),
      `import type { DashboardJson } from './grafana-json.ts';\nexport const dashboard = (${text}) satisfies DashboardJson;\n`,
    );
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (f) => virtual.has(f) || fileExists.call(host, f);
  host.readFile = (f) => virtual.get(f) ?? readFile.call(host, f);
  host.getSourceFile = (f, lang, ...rest) => {
    const text = virtual.get(f);
    return text !== undefined
      ? ts.createSourceFile(f, text, lang)
      : getSourceFile.call(host, f, lang, ...rest);
  };
  const program = ts.createProgram([...virtual.keys()], options, host);
  const out = new Map<string, string[]>();
  const names = [...texts.keys()];
  for (const [i, file] of [...virtual.keys()].entries()) {
    const sf = program.getSourceFile(file)!;
    const diags = [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)];
    out.set(
      names[i]!,
      diags.map((d) => ts.flattenDiagnosticMessageText(d.messageText, ' ')),
    );
  }
  return out;
}

const committed = new Map(
  readdirSync(OUTPUT_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => [f, readFileSync(join(OUTPUT_DIR, f), 'utf8')] as const),
);

describe('Grafana dashboards: typed by @grafana/schema', () => {
  it('every committed dashboard JSON type-checks as a schema Dashboard, with zero errors', () => {
    expect(committed.size).toBe(12);
    const result = typeCheckDashboards(committed);
    for (const [name, errors] of result) expect(errors, name).toEqual([]);
  }, 60_000);

  it('the check fails on a wrong value, a misspelt key and a missing required option', () => {
    const d = JSON.parse(committed.get('water.json')!) as DashboardJson;
    const broken = structuredClone(d) as unknown as {
      panels: Array<Record<string, unknown> & { fieldConfig: { defaults: Record<string, unknown> } }>;
    };
    broken.panels[0]!.fieldConfig.defaults.thresholds = { mode: 'absolut', steps: [] };
    const misspelt = structuredClone(d) as unknown as { panels: Array<Record<string, unknown>> };
    misspelt.panels[0]!.gridpos = misspelt.panels[0]!.gridPos;
    const missing = structuredClone(d) as unknown as { templating: { list: Array<Record<string, unknown>> } };
    delete missing.templating.list[0]!.name;
    const result = typeCheckDashboards(
      new Map([
        ['value', JSON.stringify(broken)],
        ['key', JSON.stringify(misspelt)],
        ['required', JSON.stringify(missing)],
      ]),
    );
    expect(result.get('value')!.join('\n')).toContain('"absolut"');
    expect(result.get('key')!.join('\n')).toContain('"gridpos"');
    expect(result.get('required')!.join('\n')).toMatch(/'name'|"name"/);
  }, 60_000);
});

describe('Grafana dashboards: unit ids', () => {
  it('the copied list is Grafana 11.2.0 (271 ids, µg/m³ with the Greek mu)', () => {
    expect(GRAFANA_UNIT_IDS.size).toBe(271);
    expect(GRAFANA_UNIT_IDS.has('con\u03bcgm3')).toBe(true);
    expect(GRAFANA_UNIT_IDS.has('con\u00b5gm3')).toBe(false);
    expect(GRAFANA_UNIT_IDS.has('conmgL')).toBe(false);
    expect(isGrafanaUnit('suffix:mg/L')).toBe(true);
    expect(isGrafanaUnit('suffix:')).toBe(false);
  });

  it('every unit used by a committed panel is one Grafana knows, or a custom prefix:/suffix: unit', () => {
    const used = new Set<string>();
    for (const text of committed.values())
      for (const p of (JSON.parse(text) as DashboardJson).panels) {
        const unit = p.fieldConfig.defaults.unit;
        if (unit !== undefined) used.add(unit);
      }
    expect(used.size).toBeGreaterThan(10);
    expect([...used].filter((u) => !isGrafanaUnit(u))).toEqual([]);
  });
});
