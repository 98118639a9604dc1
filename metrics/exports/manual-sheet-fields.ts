import { z } from 'zod';
import { compactCode, type KpiDefinition, parseCodeParam } from '../catalogue/catalogue.ts';
import { DATA_QUALITY_CLASSES, type DataQuality } from '../kpi-types.ts';
import { parsePeriodLabel } from '../periods.ts';
import { DATA_QUALITY_LABELS, parseDataQuality } from './rollup-entry.ts';

/**
 * Validation of one row of a manual-input sheet, as a zod schema per KPI (the data point and unit checks
 * depend on the KPI the row names). Every field is checked on its own so that one row reports all its bad
 * cells at once; each issue carries the import error code in `params.importCode`.
 */

/** What a cell holds after reading: CSV gives text; XLSX also numbers and dates. */
export type Cell = string | number | Date | null;

export const MANUAL_SHEET_COLUMNS = [
  'code',
  'data_point',
  'period',
  'value',
  'unit',
  'data_quality',
  'source',
  'evidence',
] as const;
export type ManualSheetColumn = (typeof MANUAL_SHEET_COLUMNS)[number];

/** Columns a sheet must have; data_point and evidence may be left out (their cells are optional). */
export const REQUIRED_COLUMNS: readonly ManualSheetColumn[] = [
  'code',
  'period',
  'value',
  'unit',
  'data_quality',
  'source',
];

export type ManualSheetErrorCode =
  | 'FILE_TOO_LARGE'
  | 'FILE_UNREADABLE'
  | 'FILE_ENCODING'
  | 'CSV_MALFORMED'
  | 'HEADER_MISSING'
  | 'COLUMN_MISSING'
  | 'COLUMN_DUPLICATE'
  | 'TOO_MANY_ROWS'
  | 'REQUIRED'
  | 'TOO_LONG'
  | 'KPI_UNKNOWN'
  | 'DATA_POINT_UNKNOWN'
  | 'PERIOD_INVALID'
  | 'VALUE_NOT_NUMBER'
  | 'VALUE_DECIMAL_COMMA'
  | 'VALUE_NOT_FINITE'
  | 'UNIT_MISMATCH'
  | 'DATA_QUALITY_UNKNOWN'
  | 'ROW_DUPLICATE';

type Result<T> = { ok: true; value: T } | { ok: false; code: ManualSheetErrorCode; message: string };
const ok = <T>(value: T): Result<T> => ({ ok: true, value });
const fail = (code: ManualSheetErrorCode, message: string): Result<never> => ({ ok: false, code, message });

const MAX_TEXT = { source: 500, evidence: 2000, other: 200 } as const;

function text(v: Cell): string {
  if (v === null) return '';
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? '' : v.toISOString().slice(0, 10);
  return String(v).trim();
}

function requiredText(v: Cell, max: number): Result<string> {
  const s = text(v);
  if (s === '') return fail('REQUIRED', 'this cell must not be empty');
  if (s.length > max) return fail('TOO_LONG', `at most ${max} characters (has ${s.length})`);
  return ok(s);
}

export function checkCode(v: Cell): Result<KpiDefinition> {
  const s = requiredText(v, MAX_TEXT.other);
  if (!s.ok) return s;
  const kpi = parseCodeParam(s.value);
  if (kpi === null)
    return fail(
      'KPI_UNKNOWN',
      `no U4SSC KPI has the code "${s.value}": use the official code (EC: I: WS: 1C) or the compact form (EC-I-WS-1C)`,
    );
  return ok(kpi);
}

const squashText = (s: string): string => s.normalize('NFKC').toLowerCase().replace(/\s+/g, '');

function checkDataPoint(kpi: KpiDefinition | null, v: Cell): Result<string | undefined> {
  const s = text(v);
  if (s === '') return ok(undefined);
  if (s.length > MAX_TEXT.other) return fail('TOO_LONG', `at most ${MAX_TEXT.other} characters`);
  if (kpi === null) return ok(s); // the code cell already reports the unknown KPI
  const found = kpi.dataPoints.find((dp) => squashText(dp) === squashText(s));
  if (found === undefined)
    return fail(
      'DATA_POINT_UNKNOWN',
      `${kpi.name} has no data point "${s}": one of ${kpi.dataPoints.map((d) => `"${d}"`).join(', ')}, or leave empty`,
    );
  // a single-point KPI's data point is the KPI's value: named or not, it is the same value
  return ok(kpi.dataPoints.length === 1 ? undefined : found);
}

const PERIOD_MESSAGE =
  'period must be a year, month or quarter label: YYYY, YYYY-MM or YYYY-Qn (2025, 2025-03, 2025-Q1)';

function checkPeriod(v: Cell): Result<string> {
  // Excel turns a typed "2025-03" into a date (the 1st of the month): read it back as the month
  if (v instanceof Date && !Number.isNaN(v.getTime()) && v.getUTCDate() === 1)
    return ok(`${v.getUTCFullYear()}-${String(v.getUTCMonth() + 1).padStart(2, '0')}`);
  const s = text(v);
  if (s === '') return fail('REQUIRED', 'this cell must not be empty');
  const p = parsePeriodLabel(s);
  if (p === null) return fail('PERIOD_INVALID', PERIOD_MESSAGE);
  const pad = (n: number): string => String(n).padStart(2, '0');
  if (p.kind === 'year') return ok(String(p.year));
  if (p.kind === 'month') return ok(`${p.year}-${pad(p.month)}`);
  if (p.kind === 'quarter') return ok(`${p.year}-Q${p.quarter}`);
  return fail('PERIOD_INVALID', `${PERIOD_MESSAGE}; to-date periods cannot be entered`);
}

const DECIMAL_POINT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const DECIMAL_COMMA = /^[+-]?(\d+,\d+|\d{1,3}(,\d{3})+(\.\d+)?)$/;

function checkValue(v: Cell): Result<number> {
  if (typeof v === 'number')
    return Number.isFinite(v) ? ok(v) : fail('VALUE_NOT_FINITE', 'value must be finite');
  const s = text(v);
  if (s === '')
    return fail('REQUIRED', 'a value is required: leave a KPI that is not reported (NR) out of the sheet');
  if (/^nr$/i.test(s))
    return fail('VALUE_NOT_NUMBER', 'NR is not a value: leave a KPI that is not reported out of the sheet');
  // "12,5" is 12.5 in much of Europe and 125 elsewhere: refuse rather than guess
  if (DECIMAL_COMMA.test(s))
    return fail(
      'VALUE_DECIMAL_COMMA',
      `"${s}" has a comma: write numbers with a decimal point and no thousands separator (12.5, 1234.5)`,
    );
  if (!DECIMAL_POINT.test(s))
    return fail(
      'VALUE_NOT_NUMBER',
      `"${s}" is not a number (write the number alone, without unit or % sign)`,
    );
  const n = Number(s);
  return Number.isFinite(n) ? ok(n) : fail('VALUE_NOT_FINITE', `"${s}" is too large`);
}

/** The units a value may carry: the KPI's, or for Open Data ("% and number") the unit of each data point. */
function expectedUnits(kpi: KpiDefinition, dataPoint: string | undefined): string[] {
  if (kpi.unit === '% and number' && dataPoint !== undefined) {
    if (/percent/i.test(dataPoint)) return ['%'];
    if (/number/i.test(dataPoint)) return ['number'];
  }
  return [kpi.unit];
}

function checkUnit(kpi: KpiDefinition | null, dataPoint: string | undefined, v: Cell): Result<string> {
  const s = requiredText(v, MAX_TEXT.other);
  if (!s.ok || kpi === null) return s;
  const units = expectedUnits(kpi, dataPoint);
  const found = units.find((u) => squashText(u) === squashText(s.value));
  if (found === undefined)
    return fail(
      'UNIT_MISMATCH',
      `unit "${s.value}" does not match ${kpi.name}: expected "${units.join('" or "')}"`,
    );
  return ok(found);
}

function checkDataQuality(v: Cell): Result<DataQuality> {
  const s = requiredText(v, MAX_TEXT.other);
  if (!s.ok) return s;
  const q = parseDataQuality(s.value);
  if (q === null)
    return fail(
      'DATA_QUALITY_UNKNOWN',
      `"${s.value}" is not a data-quality class: one of ${DATA_QUALITY_CLASSES.map((c) => `"${DATA_QUALITY_LABELS[c]}"`).join(', ')} (or their ids)`,
    );
  return ok(q);
}

function checkEvidence(v: Cell): Result<string | undefined> {
  const s = text(v);
  if (s === '') return ok(undefined);
  return s.length > MAX_TEXT.evidence ? fail('TOO_LONG', `at most ${MAX_TEXT.evidence} characters`) : ok(s);
}

/** A zod field that runs a check and reports its failure as an issue carrying the import code. */
function field<T>(check: (v: Cell) => Result<T>) {
  return z
    .custom<Cell>(() => true)
    .transform((v, ctx): T => {
      const r = check(v);
      if (r.ok) return r.value;
      ctx.addIssue({ code: 'custom', message: r.message, params: { importCode: r.code } });
      return z.NEVER;
    });
}

function buildRowSchema(kpi: KpiDefinition | null, rawDataPoint: Cell) {
  // the unit check needs the data point as the catalogue names it (Open Data has a unit per data point)
  const dp = checkDataPoint(kpi, rawDataPoint);
  return z.object({
    code: field(checkCode),
    data_point: field((v) => checkDataPoint(kpi, v)),
    period: field(checkPeriod),
    value: field(checkValue),
    unit: field((v) => checkUnit(kpi, dp.ok ? dp.value : undefined, v)),
    data_quality: field(checkDataQuality),
    source: field((v) => requiredText(v, MAX_TEXT.source)),
    evidence: field(checkEvidence),
  });
}

export type RawRow = Record<ManualSheetColumn, Cell>;
export type ValidRow = z.infer<ReturnType<typeof buildRowSchema>>;

/**
 * Validates one row: the valid row, or its errors by column. Schemas are built per KPI and data point and
 * cached (at most one per catalogue data point, so the cache is bounded).
 */
const schemaCache = new Map<string, ReturnType<typeof buildRowSchema>>();

export function validateRow(
  raw: RawRow,
):
  | { ok: true; row: ValidRow }
  | { ok: false; errors: Array<{ column: string; code: string; message: string }> } {
  const kpi = checkCode(raw.code);
  const k = kpi.ok ? kpi.value : null;
  const dp = checkDataPoint(k, raw.data_point);
  const key = k === null ? '' : `${compactCode(k.code)}\u0000${dp.ok ? (dp.value ?? '') : ''}`;
  let schema = schemaCache.get(key);
  if (schema === undefined) {
    schema = buildRowSchema(k, raw.data_point);
    // an unknown data point is not cached: its text varies with the input
    if (k === null || dp.ok) schemaCache.set(key, schema);
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { ok: true, row: parsed.data };
  return {
    ok: false,
    errors: parsed.error.issues.map((i) => ({
      column: String(i.path[0] ?? ''),
      code: String((i as { params?: { importCode?: string } }).params?.importCode ?? 'REQUIRED'),
      message: i.message,
    })),
  };
}
