import { z } from 'zod';
import type { Telemetry } from '../../../core/telemetry.ts';
import { type Access, type AnyRoute, defineRoute } from '../define-route.ts';
import type { Readiness } from '../http-deps.ts';

export const readinessSchema = z
  .object({
    ready: z.boolean(),
    checks: z.record(z.string(), z.boolean()),
    failing: z.array(z.string()),
  })
  .meta({ id: 'Readiness' });

interface HealthDeps {
  readiness: () => Readiness;
  telemetry: Telemetry;
  metricsAccess: Access;
  openApiDocument: () => unknown;
}

/** Liveness, readiness, Prometheus metrics and the OpenAPI document. */
export function healthRoutes(deps: HealthDeps): AnyRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/healthz',
      summary: 'Liveness: the process answers',
      tag: 'operations',
      access: 'public',
      response: z.object({ ok: z.literal(true) }),
      handle: () => ({ ok: true }),
    }),
    defineRoute({
      method: 'get',
      path: '/readyz',
      summary: 'Readiness: listening, store healthy, accepting messages',
      tag: 'operations',
      access: 'public',
      response: readinessSchema,
      otherResponses: { 503: 'not ready: the body lists the failing checks' },
      handle: ({ res }) => {
        const { ready, checks } = deps.readiness();
        const failing = Object.keys(checks).filter((name) => !checks[name]);
        res.status(ready ? 200 : 503).json({ ready, checks, failing });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/metrics',
      summary: 'Prometheus metrics',
      description:
        'Text exposition format. Public by default, as most exporters are: restrict it at the network, or set metricsPublic false to require a key.',
      tag: 'operations',
      access: deps.metricsAccess,
      responseContent: { 'text/plain': { schema: z.string() } },
      handle: async ({ res }) => {
        const text = await deps.telemetry.registry.metrics();
        res.type(deps.telemetry.registry.contentType).send(text);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/openapi.json',
      summary: 'This document',
      tag: 'operations',
      access: 'public',
      responseContent: { 'application/json': { schema: z.object({}).loose() } },
      handle: () => deps.openApiDocument(),
    }),
  ];
}
