import { z } from 'zod';
import { kpiIdentitySchema } from './kpi-identity.ts';
import { KPI_STATUSES, type KpiStatus, percentText } from './kpi-status.ts';
import { DATA_QUALITY_CLASSES, lineageSchema } from './kpi-types.ts';

/**
 * One row of a roll-up: one KPI, or one data point of a multi-point KPI, over one period. The same shape
 * the export writers (metrics/exports) take, declared here structurally so that the engine does not depend
 * on the writers. Frozen rows are stored as JSON: the type is inferred from this schema, which checks them
 * as they are read back.
 */
export const rollupEntrySchema = kpiIdentitySchema.extend({
  /** null for a single-point KPI; the data point name for each row of a multi-point KPI */
  dataPoint: z.string().nullable(),
  /** null = not reported ("NR") */
  value: z.number().nullable(),
  unit: z.string(),
  period: z.string(),
  dataQuality: z.enum(DATA_QUALITY_CLASSES).nullable(),
  /** null when unknown or when no reading was expected */
  completeness: z.number().nullable(),
  /** final, provisional or no data expected (kpi-status.ts) */
  status: z.enum(KPI_STATUSES),
  /** status is not final */
  provisional: z.boolean(),
  source: z.enum(['sensor', 'registry', 'manual', 'mixed', 'override']).nullable(),
  band: z.string().nullable(),
  points: z.number().nullable(),
  target: z.number().nullable(),
  /** roll-up version in which this entry got its value (0 while the period is open) */
  version: z.number(),
  lineage: lineageSchema.nullable(),
});
export type RollupEntry = z.infer<typeof rollupEntrySchema>;

/**
 * What made a closed period change, specifically enough for an assessor to follow it up: late readings
 * (how many, from which devices), revised readings, a manual entry (which, old and new value), a city
 * profile figure (which field, old and new) or a target (old and new). Stored as JSON with each version
 * and restatement row, and checked by this schema when read back.
 */
export const restatementCauseSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('late-data'), readings: z.number(), devices: z.array(z.string()) }),
  z.object({ kind: z.literal('revision'), readings: z.number(), devices: z.array(z.string()) }),
  z.object({
    kind: z.literal('manual-input'),
    subjectType: z.enum(['kpi', 'input']),
    subject: z.string(),
    dataPoint: z.string().nullable(),
    period: z.string(),
    oldValue: z.number().nullable(),
    newValue: z.number(),
  }),
  z.object({
    kind: z.literal('city-profile'),
    field: z.string(),
    effectiveFrom: z.string(),
    oldValue: z.union([z.number(), z.string()]).nullable(),
    newValue: z.union([z.number(), z.string()]).nullable(),
  }),
  z.object({
    kind: z.literal('target'),
    code: z.string(),
    dataPoint: z.string().nullable(),
    oldTarget: z.number().nullable(),
    newTarget: z.number().nullable(),
  }),
  /**
   * An entry's status or completeness changed (late readings completing a month, say), with its value the
   * same or not: what an assessment takes as final or provisional changed. On the entry's restatement row,
   * beside what caused the recompute; oldStatus null for an entry frozen before entries kept a status.
   */
  z.object({
    kind: z.literal('status'),
    code: z.string(),
    dataPoint: z.string().nullable(),
    oldStatus: z.enum(KPI_STATUSES).nullable(),
    newStatus: z.enum(KPI_STATUSES),
    oldCompleteness: z.number().nullable(),
    newCompleteness: z.number().nullable(),
  }),
  /** a device's installed interval changed: the device sets of the periods it reaches changed */
  z.object({
    kind: z.literal('device-life'),
    device: z.string(),
    /** ISO instants; removedAt null while installed */
    oldInstalledAt: z.string(),
    newInstalledAt: z.string(),
    oldRemovedAt: z.string().nullable(),
    newRemovedAt: z.string().nullable(),
  }),
]);
export type RestatementCause = z.infer<typeof restatementCauseSchema>;

/** Devices named in a cause at most (the count is always exact). */
export const CAUSE_DEVICES_MAX = 50;

const nr = (v: number | string | null): string => (v === null ? 'none' : String(v));
const share = (v: number | null): string => (v === null ? 'none' : percentText(v));

/** One line per cause, joined with "; ": the `cause` text of a version and of its restatement rows. */
export function describeCauses(causes: readonly RestatementCause[]): string {
  return causes.map(describeCause).join('; ');
}

function describeCause(c: RestatementCause): string {
  switch (c.kind) {
    case 'late-data':
      return `late data: ${c.readings} readings arrived after close from ${c.devices.join(', ')}`;
    case 'revision':
      return `revision: ${c.readings} stored readings revised (${c.devices.join(', ')})`;
    case 'manual-input':
      return `manual ${c.subjectType === 'kpi' ? 'value' : 'input'} changed: ${c.subject}${c.dataPoint ? ` (${c.dataPoint})` : ''} for ${c.period} ${nr(c.oldValue)} → ${c.newValue}`;
    case 'city-profile':
      return `city profile changed: ${c.field} ${nr(c.oldValue)} → ${nr(c.newValue)} from ${c.effectiveFrom}`;
    case 'target':
      return `target changed: ${c.code}${c.dataPoint ? ` (${c.dataPoint})` : ''} ${nr(c.oldTarget)} → ${nr(c.newTarget)}`;
    case 'status': {
      const entry = `${c.code}${c.dataPoint ? ` (${c.dataPoint})` : ''}`;
      const completeness = `${share(c.oldCompleteness)} → ${share(c.newCompleteness)}`;
      return c.oldStatus === c.newStatus
        ? `completeness changed: ${entry} ${completeness}, still ${c.newStatus}`
        : `status changed: ${entry} ${c.oldStatus ?? 'none'} → ${c.newStatus}, completeness ${completeness}`;
    }
    case 'device-life':
      return `device ${c.device} installed interval changed: [${c.oldInstalledAt}, ${c.oldRemovedAt ?? 'open'}) → [${c.newInstalledAt}, ${c.newRemovedAt ?? 'open'})`;
  }
}

export interface RestatementRecord {
  period: string;
  version: number;
  code: string;
  dataPoint: string | null;
  oldValue: number | null;
  newValue: number | null;
  /**
   * The entry's status and completeness before and after. A row stored before rows kept them reads back
   * with both statuses null (and both completeness figures null, which then say nothing).
   */
  oldStatus: KpiStatus | null;
  newStatus: KpiStatus | null;
  oldCompleteness: number | null;
  newCompleteness: number | null;
  /** describeCauses(causes) */
  cause: string;
  causes: RestatementCause[];
  /** epoch ms */
  at: number;
}

export interface StoredRollup {
  period: string;
  version: number;
  /** epoch ms */
  closedAt: number;
  closedBy: string;
  /** why this version exists: 'closed', or describeCauses(causes) */
  cause: string;
  /** empty for the close itself (version 1) */
  causes: RestatementCause[];
  entries: RollupEntry[];
}

/** The key of an entry within a roll-up. */
export const entryKey = (e: { code: string; dataPoint: string | null }): string =>
  `${e.code}\u0000${e.dataPoint ?? ''}`;
