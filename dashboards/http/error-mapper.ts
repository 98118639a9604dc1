import type { ErrorRequestHandler, RequestHandler } from 'express';
import { z } from 'zod';
import { CityError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';

/**
 * The one place where failures become HTTP answers (STYLE.md habit 4). Every error body has the same shape,
 * `{ error: { code, message, field?, details? } }`, with a code from core/errors.ts that clients test on.
 */

type Where = 'path' | 'query' | 'body';

export function validationError(error: z.ZodError, where: Where): CityError {
  const details = error.issues.map((issue) => ({
    in: where,
    path: issue.path.map(String).join('.'),
    code: issue.code,
    message: issue.message,
  }));
  const first = details[0];
  const field = first && first.path !== '' ? first.path : undefined;
  const message = first ? `${where}${field ? ` ${field}` : ''}: ${first.message}` : `${where} is invalid`;
  return new CityError('API_VALIDATION', message, { ...(field ? { field } : {}), details });
}

/** body-parser reports its failures with `type` and `status`. */
interface BodyParserError {
  type?: unknown;
  status?: unknown;
  limit?: unknown;
}

function toCityError(err: unknown): CityError | null {
  if (err instanceof CityError) return err;
  if (err instanceof z.ZodError) return validationError(err, 'body');
  if (typeof err !== 'object' || err === null) return null;
  const e = err as BodyParserError;
  if (e.type === 'entity.too.large')
    return new CityError('API_BODY_TOO_LARGE', `request body exceeds ${String(e.limit)} bytes`);
  if (e.type === 'entity.parse.failed')
    return new CityError('API_VALIDATION', 'body is not valid JSON', { field: 'body' });
  // Unsupported charset or encoding, a body on a verb without one...: the client's mistake, told plainly.
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500 && typeof e.type === 'string')
    return new CityError('API_VALIDATION', `body cannot be read (${e.type})`, { field: 'body' });
  return null;
}

export function errorMapper(logger: Logger): ErrorRequestHandler {
  return function mapError(err, req, res, _next) {
    const known = toCityError(err);
    const cityError = known ?? new CityError('API_INTERNAL', undefined, { cause: err });
    if (!known || cityError.httpStatus >= 500) {
      logger.error({ err, method: req.method, route: res.locals.route }, 'request failed');
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(cityError.httpStatus).json({ error: cityError.toJSON() });
  };
}

export const notFound: RequestHandler = function notFound(req, res) {
  res.locals.route = 'unmatched';
  const error = new CityError('API_NOT_FOUND', `no route ${req.method} ${req.path.slice(0, 200)}`);
  res.status(404).json({ error: error.toJSON() });
};
