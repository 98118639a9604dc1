import { z } from 'zod';
import { loadCatalogue } from '../catalogue/catalogue.ts';
import type { Lineage } from '../kpi-types.ts';
import { rollupEntrySchema } from '../rollup-types.ts';
import { type ConsistencyFinding, type RollupEntry, sortEntries } from './rollup-entry.ts';

/**
 * The JSON roll-up export: a stable, documented document. `schemaVersion` is bumped on any change that is
 * not a pure addition of optional fields; consumers check it first. Key order is fixed (objects are built
 * field by field, never spread from the input), entries are in assessment order, so two exports of the
 * same roll-up are byte-identical (given the same `generatedAt`).
 *
 * ```
 * { schemaVersion: 2, kind: "citymetrics.u4ssc-rollup", generatedAt: ISO-8601,
 *   city: { name }, period: "2026-03", version: 1, status: "closed" | "provisional" (the roll-up frozen or not),
 *   entries: [ { code, compactCode, name, dimension, subDimension, category, dataPoint, value (null = NR),
 *                unit, period, dataQuality, completeness (0..1, null = no reading expected),
 *                status ("final" | "provisional" | "no-data-expected", the same rule as the API),
 *                provisional (status is not final), source, band, points, target, version, lineage } ],
 *   findings: [ { rule, severity, codes, message } ],
 *   scores: as given (the KPI engine's aggregate scores) }
 * ```
 */

export const ROLLUP_JSON_SCHEMA_VERSION = 2;
export const ROLLUP_JSON_KIND = 'citymetrics.u4ssc-rollup';

export interface RollupDocumentInput {
  cityName: string;
  period: string;
  version: number;
  closed: boolean;
  entries: RollupEntry[];
  findings: ConsistencyFinding[];
  scores: unknown;
  /** epoch ms; default now (pass the platform clock's time for reproducible exports) */
  generatedAt?: number;
}

/**
 * A roll-up entry in the document: the stored entry's shape (rollup-types.ts, lineage included), with what
 * the document promises on top: completeness within 0..1 and whole version numbers.
 */
export const rollupEntryJsonSchema = rollupEntrySchema.extend({
  completeness: z.number().min(0).max(1).nullable(),
  version: z.number().int(),
});

/** The schema of the document `toJson` writes (for consumers, and the test that pins it). */
export const rollupDocumentSchema = z
  .object({
    schemaVersion: z.literal(ROLLUP_JSON_SCHEMA_VERSION),
    kind: z.literal(ROLLUP_JSON_KIND),
    generatedAt: z.iso.datetime(),
    city: z.object({ name: z.string() }),
    period: z.string(),
    version: z.number().int(),
    status: z.enum(['closed', 'provisional']),
    entries: z.array(rollupEntryJsonSchema),
    findings: z.array(
      z.object({
        rule: z.string(),
        severity: z.enum(['error', 'warning']),
        codes: z.array(z.string()),
        message: z.string(),
      }),
    ),
    scores: z.unknown(),
  })
  .strict();

export type RollupDocument = z.infer<typeof rollupDocumentSchema>;

/** Non-finite numbers have no JSON form: they are written as null (not reported / unknown). */
const finite = (n: number | null): number | null => (n === null || !Number.isFinite(n) ? null : n);

function lineageJson(l: Lineage | null): Lineage | null {
  if (l === null) return null;
  const out: Lineage = {
    formulaVersion: l.formulaVersion,
    formula: l.formula,
    devices: [...l.devices],
    series: l.series.map((s) => ({
      scope: s.scope,
      key: s.key,
      metric: s.metric,
      readings: s.readings,
      expected: s.expected,
      firstTs: s.firstTs,
      lastTs: s.lastTs,
    })),
    readings: l.readings,
    timeRange: l.timeRange === null ? null : { from: l.timeRange.from, to: l.timeRange.to },
    manualInputs: l.manualInputs.map((m) => ({
      name: m.name,
      value: m.value,
      unit: m.unit,
      source: m.source,
      ...(m.effectiveFrom === undefined ? {} : { effectiveFrom: m.effectiveFrom }),
    })),
  };
  if (l.registryCounts !== undefined) out.registryCounts = { ...l.registryCounts };
  if (l.notes !== undefined) out.notes = [...l.notes];
  if (l.estimates !== undefined) out.estimates = l.estimates.map((e) => ({ ...e }));
  return out;
}

export function toJson(input: RollupDocumentInput): string {
  const doc: RollupDocument = {
    schemaVersion: ROLLUP_JSON_SCHEMA_VERSION,
    kind: ROLLUP_JSON_KIND,
    generatedAt: new Date(input.generatedAt ?? Date.now()).toISOString(),
    city: { name: input.cityName },
    period: input.period,
    version: input.version,
    status: input.closed ? 'closed' : 'provisional',
    entries: sortEntries(input.entries, loadCatalogue()).map((e) => ({
      code: e.code,
      compactCode: e.compactCode,
      name: e.name,
      dimension: e.dimension,
      subDimension: e.subDimension,
      category: e.category,
      dataPoint: e.dataPoint,
      value: finite(e.value),
      unit: e.unit,
      period: e.period,
      dataQuality: e.dataQuality,
      completeness: finite(e.completeness),
      status: e.status,
      provisional: e.provisional,
      source: e.source,
      band: e.band,
      points: finite(e.points),
      target: finite(e.target),
      version: e.version,
      lineage: lineageJson(e.lineage),
    })),
    findings: input.findings.map((f) => ({
      rule: f.rule,
      severity: f.severity,
      codes: [...f.codes],
      message: f.message,
    })),
    scores: input.scores ?? null,
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
