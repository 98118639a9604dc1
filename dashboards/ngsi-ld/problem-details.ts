import type { ErrorRequestHandler, RequestHandler } from 'express';
import { CityError, type ErrorCode } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';

/**
 * Failures under /ngsi-ld as NGSI-LD clients read them: RFC 7807 problem details with the NGSI-LD error
 * types (ETSI GS CIM 009, 5.5.2), and the catalogue code as the extension member `code`, as stable as
 * everywhere else in the API. Authentication has no NGSI-LD error type: it answers `about:blank` with its
 * HTTP status, as RFC 7807 prescribes for a problem with no more specific type.
 */

const ERRORS = 'https://uri.etsi.org/ngsi-ld/errors/';

const TYPES: Partial<Record<ErrorCode, { type: string; title: string }>> = {
  API_VALIDATION: { type: `${ERRORS}BadRequestData`, title: 'Bad request data' },
  API_NOT_FOUND: { type: `${ERRORS}ResourceNotFound`, title: 'Resource not found' },
  API_UNAUTHENTICATED: { type: 'about:blank', title: 'Unauthorized' },
  API_FORBIDDEN: { type: 'about:blank', title: 'Forbidden' },
  API_RATE_LIMITED: { type: 'about:blank', title: 'Too Many Requests' },
};
const INTERNAL = { type: `${ERRORS}InternalError`, title: 'Internal error' };

export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  /** the offending parameter, e.g. `q` */
  field?: string;
}

export function toProblem(error: CityError): ProblemDetails {
  const known = error.httpStatus < 500 ? TYPES[error.code] : undefined;
  const { type, title } =
    known ??
    (error.httpStatus < 500 ? { type: `${ERRORS}BadRequestData`, title: 'Bad request data' } : INTERNAL);
  return {
    type,
    title,
    status: error.httpStatus,
    detail: error.message,
    code: error.code,
    ...(error.field !== undefined ? { field: error.field } : {}),
  };
}

export function ngsiLdErrors(logger: Logger): ErrorRequestHandler {
  return function mapNgsiLdError(err, req, res, next) {
    if (res.headersSent) return next(err);
    const cityError =
      err instanceof CityError ? err : new CityError('API_INTERNAL', undefined, { cause: err });
    if (cityError.httpStatus >= 500)
      logger.error({ err, method: req.method, route: res.locals.route }, 'request failed');
    res
      .status(cityError.httpStatus)
      .type('application/json')
      .send(JSON.stringify(toProblem(cityError)));
  };
}

/** An unknown path under /ngsi-ld is a ResourceNotFound, not the API's JSON 404. */
export const ngsiLdNotFound: RequestHandler = function ngsiLdNotFound(req, res) {
  res.locals.route = 'unmatched';
  const error = new CityError(
    'API_NOT_FOUND',
    `no NGSI-LD resource ${req.method} ${req.originalUrl.split('?')[0]!.slice(0, 200)}`,
  );
  res
    .status(404)
    .type('application/json')
    .send(JSON.stringify(toProblem(error)));
};
