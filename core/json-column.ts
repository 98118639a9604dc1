import type { z } from 'zod';

/** How a backend names a damaged row: STORE_CORRUPT with the file or database it is in. */
export type CorruptRow = (detail: string, cause?: unknown) => Error;

/**
 * A JSON column's value checked against the shape it was written in: a row edited by hand, cut short or
 * written by a newer release stops the read naming the row and field, instead of a missing field failing
 * later in an export or on the page. What is returned is what was read, not the parse: a key the schema
 * does not name is kept, never stripped on the way. `value` is the column's text (SQLite) or the value a
 * driver already decoded (a PostgreSQL jsonb column).
 */
export function checkedJson<T>(schema: z.ZodType<T>, value: unknown, where: string, corrupt: CorruptRow): T {
  let raw = value;
  if (typeof value === 'string') {
    try {
      raw = JSON.parse(value);
    } catch (err) {
      throw corrupt(`${where} is not JSON`, err);
    }
  }
  const checked = schema.safeParse(raw);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    const path = issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
    throw corrupt(`${where}${path}: ${issue.message}`, checked.error);
  }
  return raw as T;
}
