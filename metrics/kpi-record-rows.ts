import { z } from 'zod';
import { type CorruptRow, checkedJson } from '../core/json-column.ts';
import type { ManualValueRecord, ProfileField, ProfileRecord, TargetRecord } from './kpi-records.ts';
import type { KpiStatus } from './kpi-status.ts';
import type { DataQuality } from './kpi-types.ts';
import {
  type RestatementRecord,
  restatementCauseSchema,
  rollupEntrySchema,
  type StoredRollup,
} from './rollup-types.ts';

/**
 * The KPI records' rows as both backends keep them (the same column names in kpi.db and in PostgreSQL),
 * and the records they read back as. An absent data point is '' in a row (it is part of a key), null in a
 * record; causes and roll-up entries are JSON text.
 */
export interface ManualRow {
  id: number;
  subject_type: 'kpi' | 'input';
  subject: string;
  data_point: string;
  period: string;
  value: number;
  unit: string;
  data_quality: string;
  source: string;
  evidence: string | null;
  /** 0/1 in SQLite, a boolean in PostgreSQL */
  override: number | boolean;
  entered_by: string;
  entered_at: number;
  superseded_by: number | null;
}

export interface ProfileRow {
  field: ProfileField;
  value_num: number | null;
  value_text: string | null;
  effective_from: string;
  effective_from_ms: number;
  data_quality: string | null;
  source: string | null;
  entered_by: string;
  entered_at: number;
}

export interface TargetRow {
  code: string;
  data_point: string;
  value: number;
  source: string;
  set_by: string;
  set_at: number;
}

export interface RollupRow {
  period: string;
  version: number;
  closed_at: number;
  closed_by: string;
  cause: string;
  causes: string;
  entries: string;
}

export interface RestatementRow {
  period: string;
  version: number;
  code: string;
  data_point: string;
  old_value: number | null;
  new_value: number | null;
  cause: string;
  causes: string;
  at: number;
  /** null in rows stored before rows kept the entry's status and completeness */
  old_status: string | null;
  new_status: string | null;
  old_completeness: number | null;
  new_completeness: number | null;
}

const dataPointOf = (column: string): string | null => (column === '' ? null : column);

export const toManual = (r: ManualRow): ManualValueRecord => ({
  id: r.id,
  subjectType: r.subject_type,
  subject: r.subject,
  dataPoint: dataPointOf(r.data_point),
  period: r.period,
  value: r.value,
  unit: r.unit,
  dataQuality: r.data_quality as DataQuality,
  source: r.source,
  evidence: r.evidence,
  override: r.override === true || r.override === 1,
  enteredBy: r.entered_by,
  enteredAt: r.entered_at,
  supersededBy: r.superseded_by,
});

export const toProfile = (r: ProfileRow): ProfileRecord => ({
  field: r.field,
  value: r.value_num ?? r.value_text ?? '',
  effectiveFrom: r.effective_from,
  effectiveFromMs: r.effective_from_ms,
  dataQuality: r.data_quality as DataQuality | null,
  source: r.source,
  enteredBy: r.entered_by,
  enteredAt: r.entered_at,
});

export const toTarget = (t: TargetRow): TargetRecord => ({
  code: t.code,
  dataPoint: dataPointOf(t.data_point),
  value: t.value,
  source: t.source,
  setBy: t.set_by,
  setAt: t.set_at,
});

export type { CorruptRow } from '../core/json-column.ts';

const causesSchema = z.array(restatementCauseSchema);
const entriesSchema = z.array(rollupEntrySchema);

export const toRollup = (r: RollupRow, corrupt: CorruptRow): StoredRollup => {
  const where = (column: string) => `roll-up ${r.period} version ${r.version}, ${column}`;
  return {
    period: r.period,
    version: r.version,
    closedAt: r.closed_at,
    closedBy: r.closed_by,
    cause: r.cause,
    causes: checkedJson(causesSchema, r.causes, where('causes'), corrupt),
    entries: checkedJson(entriesSchema, r.entries, where('entries'), corrupt),
  };
};

export const toRestatement = (r: RestatementRow, corrupt: CorruptRow): RestatementRecord => ({
  period: r.period,
  version: r.version,
  code: r.code,
  dataPoint: dataPointOf(r.data_point),
  oldValue: r.old_value,
  newValue: r.new_value,
  oldStatus: r.old_status as KpiStatus | null,
  newStatus: r.new_status as KpiStatus | null,
  oldCompleteness: r.old_completeness,
  newCompleteness: r.new_completeness,
  cause: r.cause,
  causes: checkedJson(
    causesSchema,
    r.causes,
    `restatement ${r.period} version ${r.version} ${r.code}, causes`,
    corrupt,
  ),
  at: r.at,
});

/** A record's columns in insert order, shared by both backends' INSERT statements. */
export const manualColumns = (m: Omit<ManualValueRecord, 'id' | 'supersededBy'>) =>
  [
    m.subjectType,
    m.subject,
    m.dataPoint ?? '',
    m.period,
    m.value,
    m.unit,
    m.dataQuality,
    m.source,
    m.evidence,
  ] as const;

export const profileColumns = (r: ProfileRecord) =>
  [
    r.field,
    typeof r.value === 'number' ? r.value : null,
    typeof r.value === 'string' ? r.value : null,
    r.effectiveFrom,
    r.effectiveFromMs,
    r.dataQuality,
    r.source,
    r.enteredBy,
    r.enteredAt,
  ] as const;

export const rollupColumns = (r: StoredRollup) =>
  [
    r.period,
    r.version,
    r.closedAt,
    r.closedBy,
    r.cause,
    JSON.stringify(r.causes),
    JSON.stringify(r.entries),
  ] as const;

export const restatementColumns = (r: RestatementRecord) =>
  [
    r.period,
    r.version,
    r.code,
    r.dataPoint ?? '',
    r.oldValue,
    r.newValue,
    r.cause,
    JSON.stringify(r.causes),
    r.at,
    r.oldStatus ?? null,
    r.newStatus ?? null,
    r.oldCompleteness ?? null,
    r.newCompleteness ?? null,
  ] as const;
