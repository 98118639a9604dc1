// @ts-check
// Files the page hands over (credentials, templates) and takes in (sheets), the clipboard, failure texts.

import { ApiError } from './api.js';

/**
 * Saves a blob under a name through a temporary link; the object URL is revoked at once, so the secret
 * it may hold does not stay reachable from the page.
 * @param {Blob} blob
 * @param {string} fileName
 */
export function saveFile(blob, fileName) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

/**
 * One CSV line (RFC 4180): fields with a comma, quote or line break are quoted, quotes doubled. Nothing is
 * prefixed against spreadsheet formulas: a password may start with `-`, and must stay byte for byte.
 * @param {ReadonlyArray<string | number | boolean | null | undefined>} fields
 */
export function csvLine(fields) {
  return fields
    .map((f) => {
      const s = f === null || f === undefined ? '' : String(f);
      return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
    })
    .join(',');
}

/**
 * Copies text; answers whether it worked (the clipboard needs a secure context or a user gesture).
 * @param {string} text
 * @returns {Promise<boolean>}
 */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * A message for any failure: the API's message, code and the field it names, or what the error says.
 * @param {unknown} err
 */
export function failure(err) {
  if (err instanceof ApiError) return `${err.message} (${err.code}${err.field ? `, ${err.field}` : ''})`;
  return err instanceof Error ? err.message : String(err);
}
