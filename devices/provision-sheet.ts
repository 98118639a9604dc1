import { parse } from 'csv-parse/sync';
import type { DeviceKind } from '../core/device-kind.ts';
import type { AttributeValue } from '../core/ports/device-directory.ts';
import { type ProvisionInput, provisionInputSchema } from './registry-schema.ts';

/**
 * Reads a CSV of devices to provision, one device a row. Nothing is thrown for bad input: every problem
 * names the row as a spreadsheet shows it (header = row 1; comment and blank lines count, as they do when
 * the file is opened) and the column, so that the page can point at the cell. Valid rows are provisioned
 * even when others are not: a fleet of 500 is not held back by one mistyped district.
 *
 * Columns: `kind` and `district` (required), `id`, `name`, `lat`, `lon`, `devEui`, `installedAt`,
 * `removedAt`, and `attributes.<name>` for each attribute the kind declares (typed as the kind declares it).
 */

export const PROVISION_SHEET_COLUMNS = [
  'kind',
  'district',
  'id',
  'name',
  'lat',
  'lon',
  'devEui',
  'installedAt',
  'removedAt',
] as const;
const REQUIRED_COLUMNS = ['kind', 'district'] as const;
const ATTRIBUTE_PREFIX = 'attributes.';
// The registry's attribute-name rule, checked on the header before any object is built from it.
const ATTRIBUTE_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/** Rows one upload may hold: each costs a password hash (about 50 ms at production cost). */
export const PROVISION_SHEET_MAX_ROWS = 1_000;

export interface ProvisionSheetError {
  /** the row as a spreadsheet shows it (header = 1; 0 = the file as a whole) */
  row: number;
  /** the column's header, empty when the problem is the row or the file */
  column: string;
  code: string;
  message: string;
}

export interface ProvisionSheetRow {
  row: number;
  input: ProvisionInput;
}

export interface ProvisionSheetResult {
  rows: ProvisionSheetRow[];
  errors: ProvisionSheetError[];
}

const fileError = (row: number, code: string, message: string): ProvisionSheetResult => ({
  rows: [],
  errors: [{ row, column: '', code, message }],
});

/** Excel in many European locales saves CSV with semicolons. */
function sniffDelimiter(text: string): string {
  const line = text.split(/\r?\n/).find((l) => l.trim() !== '' && !l.startsWith('#')) ?? '';
  return (line.split(';').length > line.split(',').length ? ';' : ',') as string;
}

/** A registry field path (`location.lat`, `attributes.customers`) → the sheet's column. */
export function columnOfField(field: string | undefined): string {
  if (field === undefined) return '';
  if (field === 'location.lat' || field === 'location.lon') return field.slice('location.'.length);
  if (field === 'location') return 'lat';
  return field;
}

type Cells = Record<string, string>;

function toValue(raw: string, type: 'number' | 'string' | 'boolean'): AttributeValue | { error: string } {
  if (type === 'string') return raw;
  if (type === 'number') {
    const n = Number(raw.replace(',', '.'));
    return raw !== '' && Number.isFinite(n) ? n : { error: `"${raw}" is not a number` };
  }
  const lower = raw.toLowerCase();
  if (['true', 'yes', '1'].includes(lower)) return true;
  if (['false', 'no', '0'].includes(lower)) return false;
  return { error: `"${raw}" is not true or false` };
}

const numberCell = (raw: string): number | null => {
  const n = Number(raw.replace(',', '.'));
  return raw !== '' && Number.isFinite(n) ? n : null;
};

/** One row's cells → the registry's provision input, or the row's problems. */
function rowInput(
  row: number,
  cells: Cells,
  kindOf: (id: string) => DeviceKind | undefined,
): { input: ProvisionInput } | { errors: ProvisionSheetError[] } {
  const errors: ProvisionSheetError[] = [];
  const fail = (column: string, code: string, message: string) => errors.push({ row, column, code, message });
  const kind = kindOf(cells.kind ?? '');
  if (!cells.kind) fail('kind', 'API_VALIDATION', 'kind is required');
  else if (!kind) fail('kind', 'DEVICES_UNKNOWN_KIND', `device kind "${cells.kind}" is not known`);
  const input: Record<string, unknown> = { kind: cells.kind ?? '', district: cells.district ?? '' };
  for (const column of ['id', 'name', 'devEui'] as const) if (cells[column]) input[column] = cells[column];
  for (const column of ['installedAt', 'removedAt'] as const) {
    const raw = cells[column];
    if (!raw) continue;
    // a bare date is midnight UTC: the registry wants an instant with its zone
    input[column] = /^\d{4}-\d{2}-\d{2}$/.test(raw) ? `${raw}T00:00:00Z` : raw;
  }
  const lat = cells.lat ?? '';
  const lon = cells.lon ?? '';
  if (lat !== '' || lon !== '') {
    const la = numberCell(lat);
    const lo = numberCell(lon);
    if (la === null)
      fail('lat', 'API_VALIDATION', lat === '' ? 'lat is required with lon' : `"${lat}" is not a number`);
    if (lo === null)
      fail('lon', 'API_VALIDATION', lon === '' ? 'lon is required with lat' : `"${lon}" is not a number`);
    if (la !== null && lo !== null) input.location = { lat: la, lon: lo };
  }
  const attributes: Record<string, AttributeValue> = {};
  for (const [column, raw] of Object.entries(cells)) {
    if (!column.startsWith(ATTRIBUTE_PREFIX) || raw === '') continue;
    const name = column.slice(ATTRIBUTE_PREFIX.length);
    if (!kind) continue;
    const spec = kind.attributes[name];
    if (!spec) {
      fail(column, 'API_VALIDATION', `${kind.id} declares no attribute "${name}"`);
      continue;
    }
    const value = toValue(raw, spec.type);
    if (typeof value === 'object') fail(column, 'API_VALIDATION', value.error);
    else attributes[name] = value;
  }
  if (Object.keys(attributes).length > 0) input.attributes = attributes;
  if (errors.length > 0) return { errors };
  // The registry's own schema: the sheet refuses exactly what POST /api/devices would.
  const parsed = provisionInputSchema.safeParse(input);
  if (!parsed.success) {
    return {
      errors: parsed.error.issues.map((i) => ({
        row,
        column: columnOfField(i.path.map(String).join('.')),
        code: 'API_VALIDATION',
        message: i.message,
      })),
    };
  }
  return { input: input as ProvisionInput };
}

export function parseProvisionSheet(
  buffer: Buffer,
  kindOf: (id: string) => DeviceKind | undefined,
): ProvisionSheetResult {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(buffer).replace(/^\uFEFF/, '');
  } catch {
    return fileError(0, 'FILE_ENCODING', 'the file is not UTF-8 text: save it as "CSV UTF-8"');
  }
  let records: Array<{
    record: string[];
    info: { records: number; comment_lines: number; empty_lines: number };
  }>;
  try {
    // `info: true` makes each record { record, info }; the sync typings do not follow the option
    records = parse(text, {
      delimiter: sniffDelimiter(text),
      comment: '#',
      comment_no_infix: true,
      skip_empty_lines: true,
      relax_column_count: true,
      trim: true,
      info: true,
      // header + the cap + one more to know the cap was passed: the rest is never parsed
      to: PROVISION_SHEET_MAX_ROWS + 2,
    }) as unknown as typeof records;
  } catch (err) {
    const line = (err as { lines?: number }).lines;
    return fileError(line ?? 0, 'CSV_MALFORMED', `the CSV cannot be read: ${(err as Error).message}`);
  }
  const rowOf = (info: (typeof records)[number]['info']) =>
    info.records + info.comment_lines + info.empty_lines;
  const [head, ...body] = records;
  if (head === undefined) return fileError(1, 'HEADER_MISSING', 'the file has no header row');
  const headerRow = rowOf(head.info);
  const header = head.record.map((c) => c.trim());
  const errors: ProvisionSheetError[] = [];
  const known = new Set<string>(PROVISION_SHEET_COLUMNS);
  for (const column of header) {
    if (known.has(column)) continue;
    if (column.startsWith(ATTRIBUTE_PREFIX) && ATTRIBUTE_NAME.test(column.slice(ATTRIBUTE_PREFIX.length)))
      continue;
    errors.push({
      row: headerRow,
      column,
      code: 'COLUMN_UNKNOWN',
      message: `unknown column "${column}": use ${PROVISION_SHEET_COLUMNS.join(', ')} or attributes.<name>`,
    });
  }
  for (const column of REQUIRED_COLUMNS)
    if (!header.includes(column))
      errors.push({
        row: headerRow,
        column,
        code: 'COLUMN_MISSING',
        message: `the column "${column}" is missing`,
      });
  if (new Set(header).size !== header.length)
    errors.push({ row: headerRow, column: '', code: 'COLUMN_REPEATED', message: 'a column is named twice' });
  if (errors.length > 0) return { rows: [], errors };
  if (body.length > PROVISION_SHEET_MAX_ROWS)
    return fileError(
      rowOf(body[PROVISION_SHEET_MAX_ROWS]!.info),
      'FILE_TOO_MANY_ROWS',
      `at most ${PROVISION_SHEET_MAX_ROWS} devices per file: split it`,
    );

  const rows: ProvisionSheetRow[] = [];
  for (const { record, info } of body) {
    if (record.every((c) => c === '')) continue;
    const row = rowOf(info);
    if (record.length > header.length) {
      errors.push({
        row,
        column: '',
        code: 'ROW_TOO_LONG',
        message: `${record.length} cells, the header has ${header.length}`,
      });
      continue;
    }
    // a map with no prototype: the header was checked, but no cell name can ever reach Object.prototype
    const cells: Cells = Object.create(null);
    header.forEach((column, i) => {
      cells[column] = record[i] ?? '';
    });
    const result = rowInput(row, cells, kindOf);
    if ('errors' in result) errors.push(...result.errors);
    else rows.push({ row, input: result.input });
  }
  if (rows.length === 0 && errors.length === 0)
    return fileError(headerRow + 1, 'FILE_EMPTY', 'the file has no device rows');
  return { rows, errors };
}
