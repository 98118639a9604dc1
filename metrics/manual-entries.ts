import type { CityCalendar } from '../core/city-calendar.ts';
import { CityError } from '../core/errors.ts';
import type { KpiCatalogue } from './catalogue/catalogue.ts';
import type { CityProfile } from './city-profile.ts';
import { consistencyReport } from './exports/index.ts';
import { parseManualSheetOffThread } from './exports/parse-sheet-off-thread.ts';
import type { ManualValueInput } from './kpi-store.ts';
import type { ManualInputs } from './manual-inputs.ts';
import { type EntryProblem, type ManualEntryRequest, validateEntry } from './manual-validation.ts';
import { periodFromLabel } from './periods.ts';
import { profileFigures } from './rollup-exports.ts';
import type { RestatementCause, RollupEntry } from './rollup-types.ts';
import type { Rollups } from './rollups.ts';

/**
 * The checks a batch of manual values passes before any is stored: each entry on its own (code, data
 * point, period, unit, range, data quality, override), then the batch against the verifier's consistency
 * rules. All or nothing: one refusal refuses the lot.
 */

export type EntryRequest = ManualEntryRequest & { row?: number };

/** Every entry validated; every problem of every row reported together when one is bad. */
export function validateEntries(
  catalogue: KpiCatalogue,
  reqs: readonly EntryRequest[],
  who: { enteredBy: string; enteredAt: number },
): ManualValueInput[] {
  const problems: EntryProblem[] = [];
  const valid: ManualValueInput[] = [];
  for (const [i, req] of reqs.entries()) {
    const r = validateEntry(catalogue, req, req.row ?? i + 1, who);
    if (r.ok) valid.push(r.value);
    else problems.push(...r.problems);
  }
  if (problems.length > 0) throw problemsError(problems, reqs.length > 1);
  return valid;
}

/**
 * Each period's roll-up with the new values is checked against the verifier's consistency rules: a new
 * error naming one of the entered KPIs refuses the lot (METRICS_INCONSISTENT), an error already there
 * does not.
 */
export async function checkConsistency(
  valid: readonly ManualValueInput[],
  reqs: readonly EntryRequest[],
  deps: { rollups: Rollups; profile: CityProfile },
): Promise<void> {
  const byPeriod = new Map<string, ManualValueInput[]>();
  for (const v of valid) {
    if (v.subjectType !== 'kpi') continue;
    byPeriod.set(v.period, [...(byPeriod.get(v.period) ?? []), v]);
  }
  for (const [label, values] of byPeriod) {
    const period = deps.rollups.period(label);
    const before = await deps.rollups.build(period, { version: 0, closed: false });
    const after: RollupEntry[] = before.map((e) => {
      const v = values.find(
        (x) => x.subject === e.code && (x.dataPoint === e.dataPoint || e.dataPoint === null),
      );
      return v === undefined ? e : { ...e, value: v.value, source: 'manual' };
    });
    const profile = profileFigures(deps.profile, period.end - 1);
    const known = new Set(consistencyReport(before, profile).map((f) => `${f.rule}|${f.codes.join(',')}`));
    const codes = new Set(values.map((v) => v.subject));
    const fresh = consistencyReport(after, profile).filter(
      (f) =>
        f.severity === 'error' &&
        !known.has(`${f.rule}|${f.codes.join(',')}`) &&
        f.codes.some((c) => codes.has(c)),
    );
    if (fresh.length > 0) {
      const rowOf = (code: string) => {
        const i = valid.findIndex((v) => v.subject === code && v.period === label);
        return reqs[i]?.row ?? i + 1;
      };
      const f = fresh[0]!;
      throw new CityError(
        'METRICS_INCONSISTENT',
        `row ${rowOf(f.codes.find((c) => codes.has(c))!)}: ${f.message}`,
        {
          field: 'value',
          details: { findings: fresh },
        },
      );
    }
  }
}

/** What a manual entry changes: the value that held for its period before (carried forward or not). */
export function manualCause(
  v: ManualValueInput,
  deps: { calendar: CityCalendar; manual: ManualInputs },
): RestatementCause {
  const period = periodFromLabel(deps.calendar, v.period);
  const held = period === null ? null : deps.manual.resolve(v.subjectType, v.subject, period);
  const old =
    held?.records.find((r) => r.dataPoint === v.dataPoint) ??
    (held?.records.length === 1 && v.dataPoint === null ? held.records[0] : undefined);
  return {
    kind: 'manual-input',
    subjectType: v.subjectType,
    subject: v.subject,
    dataPoint: v.dataPoint,
    period: v.period,
    oldValue: old?.value ?? null,
    newValue: v.value,
  };
}

/** A CSV or XLSX sheet as entry requests: every bad row is reported by row and column, then nothing is kept. */
export async function sheetEntries(buffer: Buffer, format: 'csv' | 'xlsx'): Promise<EntryRequest[]> {
  const parsed = await parseManualSheetOffThread(buffer, format);
  if (parsed.errors.length > 0)
    throw new CityError(
      'METRICS_IMPORT_INVALID',
      `${parsed.errors.length} problem(s): ${describe(parsed.errors[0]!)}`,
      {
        field: `row ${parsed.errors[0]!.row}, ${parsed.errors[0]!.column}`,
        details: { errors: parsed.errors },
      },
    );
  return parsed.rows.map((r) => ({
    row: r.row,
    code: r.code,
    dataPoint: r.dataPoint ?? null,
    period: r.period,
    value: r.value,
    unit: r.unit,
    dataQuality: r.dataQuality,
    source: r.source,
    evidence: r.evidence ?? null,
  }));
}

const describe = (e: { row: number; column: string; message: string }): string =>
  `row ${e.row}, ${e.column}: ${e.message}`;

/** One problem keeps its own code (409 for an override); several, or a sheet, are METRICS_IMPORT_INVALID. */
function problemsError(problems: EntryProblem[], many: boolean): CityError {
  const first = problems[0]!;
  if (!many)
    return new CityError(first.code, first.message, { field: first.column, details: { errors: problems } });
  return new CityError('METRICS_IMPORT_INVALID', `${problems.length} problem(s): ${describe(first)}`, {
    field: `row ${first.row}, ${first.column}`,
    details: { errors: problems },
  });
}
