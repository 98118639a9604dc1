import type { RequestHandler } from 'express';
import { CityError } from '../../core/errors.ts';

/**
 * Refuses JSON bodies carrying `__proto__`, `constructor` or `prototype` as a key at any depth, and bodies
 * nested deeper than is ever legitimate. JSON.parse makes `__proto__` an own property, harmless by itself,
 * but any later spread or merge of the object (attributes merged into a device, say) would then set a
 * prototype: refusing at the edge removes the hazard for every handler at once.
 */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_DEPTH = 32;

export function findForbidden(
  value: unknown,
  path: string[] = [],
  depth = 0,
): { path: string; reason: string } | null {
  if (typeof value !== 'object' || value === null) return null;
  if (depth > MAX_DEPTH) return { path: path.join('.'), reason: `nested deeper than ${MAX_DEPTH} levels` };
  const entries: Array<[string, unknown]> = Array.isArray(value)
    ? value.map((v, i) => [String(i), v])
    : Object.keys(value).map((k) => [k, (value as Record<string, unknown>)[k]]);
  for (const [key, child] of entries) {
    if (!Array.isArray(value) && FORBIDDEN_KEYS.has(key))
      return { path: [...path, key].join('.'), reason: `key "${key}" is not allowed` };
    const found = findForbidden(child, [...path, key], depth + 1);
    if (found) return found;
  }
  return null;
}

export const bodyGuard: RequestHandler = function bodyGuard(req, _res, next) {
  const found = findForbidden(req.body);
  if (!found) return next();
  next(new CityError('API_VALIDATION', `body ${found.path}: ${found.reason}`, { field: found.path }));
};
