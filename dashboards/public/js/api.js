// REST calls with the signed-in key. Errors carry the catalogue code of the API's error body.

const ROLES = ['viewer', 'operator', 'analyst', 'admin'];
let key = null;
let role = 'viewer';

export const setKey = (k) => {
  key = k;
};
export const setRole = (r) => {
  role = r;
};
export const getRole = () => role;
/** What the signed-in key may do: the page offers nothing its role cannot do. */
export const can = (needed) => ROLES.indexOf(role) >= ROLES.indexOf(needed);

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export async function api(path, options = {}) {
  const res = await fetch(path, {
    method: options.method || 'GET',
    headers: {
      Authorization: `Bearer ${key}`,
      ...(options.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
    },
    body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
  });
  if (res.status === 204) return null;
  const body = await res.json().catch(() => null);
  if (!res.ok) {
    throw new ApiError(res.status, body?.error?.code || 'HTTP', body?.error?.message || res.statusText);
  }
  return body;
}

/** GET that answers null on 404 (an API part not present in this deployment, or nothing for that period). */
export async function apiOptional(path) {
  try {
    return await api(path);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
}
