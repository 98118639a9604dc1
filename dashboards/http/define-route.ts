import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import type { z } from 'zod';
import type {
  ZodOpenApiOperationObject,
  ZodOpenApiPathsObject,
  ZodOpenApiResponsesObject,
} from 'zod-openapi';
import { validationError } from './error-mapper.ts';
import type { Principal, Role } from './roles.ts';
import { errorResponseSchema } from './schemas/common.ts';

/**
 * One declaration per route serves both express and the OpenAPI document, so the document cannot drift
 * from what the server accepts: the same zod schemas validate the request and describe it.
 */

/**
 * A key role; `public`; or `device`: the device's own credentials (HTTP Basic, id and password), checked by
 * the route itself because it must answer as the gateway does (codes, counts), not as the key check does.
 */
export type Access = Role | 'public' | 'device';
export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface RouteContext<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  /** null on public routes */
  principal: Principal | null;
  req: Request;
  res: Response;
}

export interface RouteSpec<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType> {
  method: Method;
  /** express syntax: `/api/devices/:id` */
  path: string;
  summary: string;
  description?: string;
  tag: string;
  access: Access;
  params?: P;
  query?: Q;
  body?: B;
  /** Status of success; 204 answers without a body. Default 200. */
  status?: number;
  /** JSON response of success. */
  response?: z.ZodType;
  /** A body the handler reads itself (device payloads, decoded as MQTT payloads are), for the document only. */
  requestContent?: Record<string, { schema: z.ZodType }>;
  /** Non-JSON success content (the Prometheus text), for the document only. */
  responseContent?: Record<string, { schema: z.ZodType }>;
  /** Other statuses worth documenting (503 of /readyz). */
  otherResponses?: Record<number, string>;
  /**
   * Returns the JSON body, or undefined for 204; may write to `res` itself (headers sent → nothing more is
   * done).
   */
  handle(ctx: RouteContext<z.output<P>, z.output<Q>, z.output<B>>): unknown;
}

// biome-ignore lint/suspicious/noExplicitAny: a heterogeneous list of routes; each was type-checked by defineRoute
export type AnyRoute = RouteSpec<any, any, any>;

/** Identity function that gives `handle` the types of its schemas. */
export function defineRoute<
  P extends z.ZodType = z.ZodUndefined,
  Q extends z.ZodType = z.ZodUndefined,
  B extends z.ZodType = z.ZodUndefined,
>(spec: RouteSpec<P, Q, B>): RouteSpec<P, Q, B> {
  return spec;
}

export interface RouteGuards {
  /** Resolves the bearer key and refuses (401/403) a principal below `role`; sets res.locals.principal. */
  requireRole(role: Role): RequestHandler;
}

/** Registers the routes on a router, each behind its role check, with parsed and validated input. */
export function mountRoutes(router: Router, routes: readonly AnyRoute[], guards: RouteGuards): void {
  for (const route of routes) {
    const chain: RequestHandler[] = [tagRoute(route.path)];
    if (route.access !== 'public' && route.access !== 'device') chain.push(guards.requireRole(route.access));
    chain.push(async function handleRoute(req: Request, res: Response, _next: NextFunction) {
      const params = route.params ? parseInput(route.params, req.params, 'path') : undefined;
      const query = route.query ? parseInput(route.query, req.query, 'query') : undefined;
      const body = route.body ? parseInput(route.body, req.body, 'body') : undefined;
      const principal = (res.locals.principal as Principal | undefined) ?? null;
      const result = await route.handle({ params, query, body, principal, req, res });
      if (res.headersSent) return;
      if (result === undefined) res.status(204).end();
      else res.status(route.status ?? 200).json(result);
    });
    router[route.method](route.path, ...chain);
  }
}

/**
 * Validates one part of the request; every issue is reported (`details`), the first names `field`.
 * The error mapper turns the CityError into 400 API_VALIDATION.
 */
export function parseInput<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: 'path' | 'query' | 'body',
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw validationError(result.error, where);
}

/** Labels the request with its route pattern (bounded cardinality for the request counter). */
const tagRoute =
  (path: string): RequestHandler =>
  (_req, res, next) => {
    res.locals.route = path;
    next();
  };

const errorContent = { 'application/json': { schema: errorResponseSchema } };

/** The OpenAPI paths of the routes. */
export function openApiPaths(routes: readonly AnyRoute[]): ZodOpenApiPathsObject {
  const paths: ZodOpenApiPathsObject = {};
  for (const route of routes) {
    const openApiPath = route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const responses: ZodOpenApiResponsesObject = {};
    const status = String(route.status ?? 200) as `2${string}`;
    responses[status] = {
      description: route.status === 204 ? 'done' : 'success',
      ...(route.response ? { content: { 'application/json': { schema: route.response } } } : {}),
      ...(route.responseContent ? { content: route.responseContent } : {}),
    };
    const fail = (code: `${4 | 5}${string}`, description: string) => {
      responses[code] = { description, content: errorContent };
    };
    if (route.params || route.query || route.body) fail('400', 'API_VALIDATION: the request is invalid');
    if (route.access === 'device') {
      fail('401', 'GATEWAY_BAD_CREDENTIALS or GATEWAY_DEVICE_DISABLED: the device cannot authenticate');
      fail('403', 'GATEWAY_NOT_AUTHORIZED: the credentials are those of another device');
      fail('429', 'API_RATE_LIMITED: too many failed authentications from this address');
    } else if (route.access !== 'public') {
      fail('401', 'API_UNAUTHENTICATED: missing or invalid API key');
      fail('403', `API_FORBIDDEN: the key's role is below ${route.access}`);
      fail('429', 'API_RATE_LIMITED: too many failed authentications from this address');
    }
    if (route.params) fail('404', 'not found');
    if (route.body) fail('413', 'API_BODY_TOO_LARGE');
    for (const [code, description] of Object.entries(route.otherResponses ?? {}))
      if (code.startsWith('4')) fail(code as `4${string}`, description);
    for (const [code, description] of Object.entries(route.otherResponses ?? {}))
      if (!code.startsWith('4')) responses[code as `5${string}`] = { description };
    const access = {
      public: 'Public.',
      device: 'Authenticated as the device itself: HTTP Basic with the device id and its password.',
    } as Partial<Record<Access, string>>;
    const operation: ZodOpenApiOperationObject = {
      summary: route.summary,
      description: [route.description, access[route.access] ?? `Requires role ${route.access} or above.`]
        .filter(Boolean)
        .join(' '),
      tags: [route.tag],
      operationId: `${route.method}${openApiPath.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? '').toUpperCase())}`,
      security:
        route.access === 'public'
          ? []
          : route.access === 'device'
            ? [{ deviceBasic: [] }]
            : [{ bearerAuth: [] }],
      responses,
    };
    if (route.params || route.query) {
      operation.requestParams = {};
      if (route.params) operation.requestParams.path = route.params;
      if (route.query) operation.requestParams.query = route.query;
    }
    if (route.body)
      operation.requestBody = { required: true, content: { 'application/json': { schema: route.body } } };
    if (route.requestContent) operation.requestBody = { required: true, content: route.requestContent };
    const item = paths[openApiPath] ?? {};
    item[route.method] = operation;
    paths[openApiPath] = item;
  }
  return paths;
}
