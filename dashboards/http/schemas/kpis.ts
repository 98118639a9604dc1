import { z } from 'zod';
import { isValidTimeZone } from '../../../core/city-calendar.ts';
import { rollupEntryJsonSchema } from '../../../metrics/exports/json-export.ts';
import 'zod-openapi';
import { kpiIdentitySchema } from '../../../metrics/kpi-identity.ts';
import { KPI_STATUSES, STATUS_REASONS } from '../../../metrics/kpi-status.ts';
import { DATA_QUALITY_CLASSES } from '../../../metrics/kpi-types.ts';
import { dataQualitySchema, kpiValueViewSchema } from '../../../metrics/kpi-views.ts';

/** KPI, manual-value, profile, target and roll-up schemas of the API. */

export { dataQualitySchema, kpiValueViewSchema };

export const kpiCodeParams = z
  .object({
    code: z.string().min(1).max(64).meta({
      description: 'official code URL-encoded (`EN%3A%20EN%3A%20AQ%3A%201C`) or compact (`EN-EN-AQ-1C`)',
      example: 'EN-EN-AQ-1C',
    }),
  })
  .strict();

export const periodParams = z
  .object({
    period: z
      .string()
      .regex(/^\d{4}(-(0[1-9]|1[0-2]|Q[1-4]))?$/i, 'YYYY-MM, YYYY-Qn or YYYY')
      .meta({ description: 'a month `YYYY-MM`, quarter `YYYY-Qn` or year `YYYY`', example: '2026-03' }),
  })
  .strict();

const scoreSchema = z.object({ points: z.number(), band: z.string(), percentOfTarget: z.number() });

export const kpiListItemSchema = kpiIdentitySchema
  .extend({
    level: z.string(),
    unit: z.string(),
    obtained: z.string(),
    betterWhen: z.string(),
    target: z.number().nullable(),
    current: z.object({
      'month-to-date': kpiValueViewSchema.nullable(),
      'year-to-date': kpiValueViewSchema.nullable(),
      'rolling-12-months': kpiValueViewSchema.nullable(),
    }),
    score: scoreSchema.nullable(),
    trend: z.object({ monthOverMonth: z.number().nullable(), yearOverYear: z.number().nullable() }),
  })
  .meta({ id: 'KpiListItem' });

export const kpiListQuerySchema = z
  .object({
    dimension: z.string().optional(),
    subDimension: z.string().optional(),
    category: z.string().optional(),
    level: z.enum(['core', 'advanced']).optional(),
    obtained: z.enum(['sensor', 'registry', 'manual', 'mixed']).optional(),
  })
  .strict();

export const manualValueBodySchema = z
  .object({
    dataPoint: z.string().max(80).nullable().optional(),
    period: z.string().max(10).meta({ description: '`YYYY-MM`, `YYYY-Qn` or `YYYY`', example: '2025' }),
    value: z.number(),
    unit: z.string().min(1).max(80),
    dataQuality: z
      .string()
      .max(40)
      .meta({ description: DATA_QUALITY_CLASSES.join(' | ') }),
    source: z.string().min(1).max(200),
    evidence: z.string().max(2000).nullable().optional().meta({ description: 'URL or note' }),
    override: z.boolean().optional().meta({
      description: 'required to replace a sensor-derived value (else 409 METRICS_OVERRIDE_REQUIRED)',
    }),
  })
  .strict();

export const manualRecordSchema = z
  .looseObject({
    id: z.number(),
    subjectType: z.enum(['kpi', 'input']),
    subject: z.string(),
    dataPoint: z.string().nullable(),
    period: z.string(),
    value: z.number(),
    unit: z.string(),
    dataQuality: z.string(),
    source: z.string(),
    evidence: z.string().nullable(),
    override: z.boolean(),
    enteredBy: z.string(),
    enteredAt: z.string(),
  })
  .meta({ id: 'ManualValue' });

// The same entry the JSON export writes: one schema for both, so the API and the export cannot drift.
export const rollupEntrySchema = rollupEntryJsonSchema.meta({ id: 'RollupEntry' });

export const rollupSchema = z
  .object({
    period: z.string(),
    version: z.number().int().meta({ description: '0 while the period is open (provisional)' }),
    closed: z.boolean(),
    closedAt: z.string().optional(),
    closedBy: z.string().optional(),
    entries: z.array(rollupEntrySchema),
    scores: z.looseObject({
      categories: z.array(z.unknown()),
      subDimensions: z.array(z.unknown()),
      dimensions: z.array(z.unknown()),
    }),
  })
  .meta({ id: 'Rollup' });

export const restatementCauseSchema = z
  .looseObject({
    kind: z.enum([
      'late-data',
      'revision',
      'manual-input',
      'city-profile',
      'target',
      'device-life',
      'status',
    ]),
  })
  .meta({
    id: 'RestatementCause',
    description:
      'late-data {readings, devices} (arrived after close) · revision {readings, devices} · manual-input {subjectType, subject, dataPoint, period, oldValue, newValue} · city-profile {field, effectiveFrom, oldValue, newValue} · target {code, dataPoint, oldTarget, newTarget} · device-life {device, oldInstalledAt, newInstalledAt, oldRemovedAt, newRemovedAt} · status {code, dataPoint, oldStatus, newStatus, oldCompleteness, newCompleteness} (on a restatement row whose status or completeness changed)',
  });

export const restatementSchema = z
  .object({
    period: z.string(),
    version: z.number().int(),
    code: z.string(),
    dataPoint: z.string().nullable(),
    oldValue: z.number().nullable(),
    newValue: z.number().nullable(),
    oldStatus: z
      .enum(KPI_STATUSES)
      .nullable()
      .meta({ description: "the entry's status before; null on rows stored before rows kept it" }),
    newStatus: z.enum(KPI_STATUSES).nullable(),
    oldCompleteness: z.number().nullable(),
    newCompleteness: z.number().nullable(),
    cause: z.string().meta({ description: 'the causes in words' }),
    causes: z.array(restatementCauseSchema),
    at: z.string(),
  })
  .meta({ id: 'Restatement' });

export const rollupVersionSchema = z
  .object({
    period: z.string(),
    version: z.number().int(),
    closedAt: z.string(),
    closedBy: z.string(),
    cause: z.string().meta({ description: '`closed` for version 1, else the causes in words' }),
    causes: z.array(restatementCauseSchema),
  })
  .meta({ id: 'RollupVersion' });

export const profileBodySchema = z
  .object({
    name: z.string().min(1).max(120).optional(),
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, 'ISO 4217 code')
      .optional(),
    population: z.number().positive().optional(),
    households: z.number().positive().optional(),
    areaKm2: z.number().positive().optional(),
    gdp: z.number().positive().optional(),
    effectiveFrom: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/)
      .optional()
      .meta({ description: 'local date; default today' }),
    dataQuality: dataQualitySchema.optional(),
    source: z.string().max(200).optional(),
    timeZone: z
      .string()
      .refine(isValidTimeZone, 'not an IANA time zone')
      .optional()
      .meta({ description: 'read-only: set by CITY_TIMEZONE; a different value is refused' }),
  })
  .strict();

export const targetBodySchema = z
  .object({
    value: z.number().positive().optional(),
    dataPoints: z.record(z.string(), z.number().positive()).optional(),
    source: z.string().min(1).max(200),
  })
  .strict();

export const inputNameParams = z.object({ name: z.string().regex(/^[A-Za-z][A-Za-z0-9]{0,63}$/) }).strict();

export const inputBodySchema = manualValueBodySchema.omit({ dataPoint: true, override: true });

export const anyObject = z.object({}).loose();

export const toIsoRecord = <T extends { enteredAt: number }>(
  r: T,
): Omit<T, 'enteredAt'> & { enteredAt: string } => ({
  ...r,
  enteredAt: new Date(r.enteredAt).toISOString(),
});

const seriesUseSchema = z.object({
  scope: z.enum(['device', 'district', 'city']),
  key: z.string().meta({ description: 'device id, district name or `city`' }),
  metric: z.string(),
  readings: z.number().meta({ description: 'readings used' }),
  expected: z.number().meta({ description: 'readings owed over the installed intervals (0: none owed)' }),
  firstTs: z.number().nullable(),
  lastTs: z.number().nullable(),
});

export const lineageSchema = z
  .object({
    formulaVersion: z.string(),
    formula: z.string().meta({ description: 'what the formula computes, in words' }),
    devices: z.array(z.string()).meta({ description: 'ids of the devices behind the value' }),
    series: z.array(seriesUseSchema),
    readings: z.number(),
    timeRange: z.object({ from: z.string(), to: z.string() }).nullable(),
    manualInputs: z
      .array(
        z.object({
          name: z.string(),
          value: z.number(),
          unit: z.string(),
          source: z
            .string()
            .meta({ description: '`city profile` for a profile figure; an override is named `override…`' }),
          effectiveFrom: z.string().optional(),
        }),
      )
      .meta({ description: 'manual inputs, city-profile figures and overrides used' }),
    registryCounts: z.record(z.string(), z.number()).optional(),
    notes: z.array(z.string()).optional(),
  })
  .meta({ id: 'Lineage' });

export const kpiLineageSchema = z
  .object({
    code: z.string(),
    period: z.string().meta({ example: '2026-03-mtd' }),
    closed: z.boolean().meta({ description: 'a frozen roll-up answers (its newest version)' }),
    version: z.number().meta({ description: '0 while the period is open' }),
    value: z.number().nullable(),
    status: z.enum(KPI_STATUSES).optional(),
    statusReason: z.enum(STATUS_REASONS).optional(),
    statusWhy: z
      .string()
      .optional()
      .meta({ description: 'the reason in words, with the figures that decide it' }),
    captureThreshold: z.number().optional(),
    closesAt: z.string().nullable().optional().meta({
      description: 'when a calendar period closes by itself (end + grace days); null for a running one',
    }),
    view: kpiValueViewSchema.optional().meta({ description: 'the value computed now (open period)' }),
    entries: z
      .array(z.looseObject({}))
      .optional()
      .meta({ description: 'the frozen roll-up entries of the KPI (closed period), one per data point' }),
    lineage: lineageSchema.nullable(),
  })
  .meta({ id: 'KpiLineage' });
