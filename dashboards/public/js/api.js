// @ts-check
// REST calls with the signed-in key. Errors carry the catalogue code of the API's error body.

const ROLES = ['viewer', 'operator', 'analyst', 'admin'];
/** @type {string | null} */
let key = null;
let role = 'viewer';

export const setKey = (/** @type {string | null} */ k) => {
  key = k;
};
export const setRole = (/** @type {string} */ r) => {
  role = r;
};
export const getRole = () => role;
/** What the signed-in key may do: the page offers nothing its role cannot do. @param {string} needed */
export const can = (needed) => ROLES.indexOf(role) >= ROLES.indexOf(needed);

export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   * @param {{ field?: string, details?: any }} [extra] where the problem is, and the rows of a refused sheet
   */
  constructor(status, code, message, extra = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = extra.field;
    this.details = extra.details;
  }
}

/**
 * A JSON request; `raw` sends a file or text as it is (a CSV or XLSX upload) with its `contentType`.
 * @param {string} path
 * @param {{ method?: string, body?: unknown, raw?: Blob | string, contentType?: string }} [options]
 * @returns {Promise<any>}
 */
export async function api(path, options = {}) {
  const json = options.body !== undefined;
  const res = await send(path, {
    method: options.method || 'GET',
    headers: {
      ...(json ? { 'Content-Type': 'application/json' } : {}),
      ...(options.raw !== undefined
        ? { 'Content-Type': options.contentType || 'application/octet-stream' }
        : {}),
    },
    body: json ? JSON.stringify(options.body) : options.raw,
  });
  if (res.status === 204) return null;
  return res.json().catch(() => null);
}

/**
 * A download (a template, an export) with the signed-in key: the body and the file name the server gave.
 * @param {string} path
 * @returns {Promise<{ blob: Blob, fileName: string | null }>}
 */
export async function apiFile(path) {
  const res = await send(path, { method: 'GET', headers: {} });
  const disposition = res.headers.get('content-disposition') || '';
  const name = /filename="([^"]+)"/.exec(disposition);
  return { blob: await res.blob(), fileName: name ? name[1] : null };
}

/**
 * @param {string} path
 * @param {{ method: string, headers: Record<string, string>, body?: BodyInit }} init
 * @returns {Promise<Response>} a 2xx answer; anything else throws an ApiError with the API's code
 */
async function send(path, init) {
  let res;
  try {
    res = await fetch(path, { ...init, headers: { Authorization: `Bearer ${key}`, ...init.headers } });
  } catch (err) {
    throw new ApiError(
      0,
      'NETWORK',
      `the server cannot be reached (${err instanceof Error ? err.message : err})`,
    );
  }
  if (res.ok) return res;
  const body = await res.json().catch(() => null);
  throw new ApiError(
    res.status,
    body?.error?.code || 'HTTP',
    body?.error?.message || `${res.status} ${res.statusText}`,
    {
      field: body?.error?.field,
      details: body?.error?.details,
    },
  );
}

/**
 * GET that answers null on 404 (an API part not present in this deployment, or nothing for that period).
 * @param {string} path
 */
export async function apiOptional(path) {
  try {
    return await api(path);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
}
