import { CommanderError } from 'commander';
import { defaultFix } from './error-fixes.ts';
import { CityError, isCityError } from './errors.ts';

const MAX_DETAIL_LINES = 50;

/** The lines of `details` worth showing: the API's validation issues and the rows of a refused sheet. */
function detailLines(details: unknown): string[] {
  const list = Array.isArray(details)
    ? details
    : Array.isArray((details as { errors?: unknown } | null)?.errors)
      ? (details as { errors: unknown[] }).errors
      : [];
  const lines = list.slice(0, MAX_DETAIL_LINES).flatMap((d): string[] => {
    if (typeof d === 'string') return [d];
    const e = d as { row?: unknown; column?: unknown; path?: unknown; message?: unknown };
    if (typeof e.message !== 'string') return [];
    if (e.row !== undefined) return [`row ${String(e.row)}, ${String(e.column)}: ${e.message}`];
    return [typeof e.path === 'string' && e.path !== '' ? `${e.path}: ${e.message}` : e.message];
  });
  if (list.length > MAX_DETAIL_LINES) lines.push(`... and ${list.length - MAX_DETAIL_LINES} more`);
  return lines;
}

/**
 * An error as the command line tells it, on stderr: `CODE: message`, what is wrong where, and a `fix:` line.
 * No stack trace (`debug` adds it, for a report): the person needs what to do, not where it was thrown.
 */
export function formatCliError(err: unknown, command: string, debug = false): string {
  let error: CityError;
  if (isCityError(err)) error = err;
  else if (err instanceof CommanderError)
    error = new CityError('CLI_ARGUMENT_INVALID', err.message.replace(/^error: /, ''), {
      fix: `see \`${command} --help\``,
    });
  else error = new CityError('CLI_UNEXPECTED', (err as Error)?.message ?? String(err), { cause: err });
  const lines = [`${error.code}: ${error.message}`];
  const details = detailLines(error.details);
  // A message that already spans lines (every bad setting of CONFIG_INVALID) carries its own list.
  if (!error.message.includes('\n')) lines.push(...details.map((l) => `  - ${l}`));
  const fix = error.fix ?? defaultFix(error.code);
  if (fix !== undefined) lines.push(`  fix: ${fix}`);
  if (debug) {
    const cause = error.code === 'CLI_UNEXPECTED' ? err : (error.cause ?? error);
    lines.push(String((cause as Error)?.stack ?? cause));
  }
  return `${lines.join('\n')}\n`;
}
