import { z } from 'zod';
import type { KpiService } from '../../../metrics/kpi-service.ts';
import { type AnyRoute, defineRoute } from '../define-route.ts';
import {
  anyObject,
  periodParams,
  restatementSchema,
  rollupSchema,
  rollupVersionSchema,
} from '../schemas/kpis.ts';
import { byPrincipal } from './kpis.ts';

const exportParams = periodParams.extend({ format: z.enum(['csv', 'xlsx', 'json']) }).strict();

/** Monthly, quarterly and yearly roll-ups: view, exports, consistency report, close, restatements. */
export function rollupRoutes(deps: { kpis: KpiService }): AnyRoute[] {
  const { kpis } = deps;
  return [
    defineRoute({
      method: 'get',
      path: '/api/rollups/:period',
      summary: 'Roll-up of a month or a year',
      description:
        'One entry per KPI and data point: value or null (NR), unit, data quality, completeness, provisional, source, band, version. A closed period answers its newest version; an open one is computed now (version 0, provisional).',
      tag: 'rollups',
      access: 'viewer',
      params: periodParams,
      response: rollupSchema,
      handle: ({ params }) => kpis.rollup(params.period),
    }),
    defineRoute({
      method: 'get',
      path: '/api/rollups/:period/export.:format',
      summary: 'Download a roll-up as CSV, XLSX or JSON',
      tag: 'rollups',
      access: 'viewer',
      params: exportParams,
      responseContent: {
        'text/csv': { schema: z.string() },
        'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': { schema: z.string() },
        'application/json': { schema: anyObject },
      },
      handle: async ({ params, res }) => {
        const file = await kpis.export(params.period, params.format);
        res.set('content-type', file.contentType);
        res.set('content-disposition', `attachment; filename="${file.fileName}"`);
        res.status(200).send(file.body);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/rollups/:period/consistency',
      summary: 'Verifier consistency report of a roll-up',
      tag: 'rollups',
      access: 'viewer',
      params: periodParams,
      response: anyObject,
      handle: ({ params }) => kpis.consistency(params.period),
    }),
    defineRoute({
      method: 'post',
      path: '/api/rollups/:period/close',
      summary: 'Close a month (or a year) now',
      description:
        'Freezes the roll-up as version 1 (a December close freezes the year too). 409 METRICS_PERIOD_NOT_ENDED before the period ends, METRICS_ALREADY_CLOSED when closed.',
      tag: 'rollups',
      access: 'analyst',
      params: periodParams,
      status: 201,
      response: z.object({
        closed: z.array(z.object({ period: z.string(), version: z.number(), closedAt: z.string() })),
      }),
      handle: async ({ params, principal }) => {
        const closed = await kpis.close(params.period, byPrincipal(principal));
        return {
          closed: closed.map((r) => ({
            period: r.period,
            version: r.version,
            closedAt: new Date(r.closedAt).toISOString(),
          })),
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/rollups/:period/versions',
      summary: 'History of a closed period',
      description:
        'Every version of the roll-up, oldest first: version 1 the close, each later one a restatement with its causes (late data, revision, manual input, city profile, target, device life).',
      tag: 'rollups',
      access: 'viewer',
      params: periodParams,
      response: z.object({ period: z.string(), versions: z.array(rollupVersionSchema) }),
      handle: ({ params }) => {
        const r = kpis.versions(params.period);
        return {
          period: r.period,
          versions: r.versions.map((v) => ({ ...v, closedAt: new Date(v.closedAt).toISOString() })),
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/rollups/:period/restatements',
      summary: 'Restatements of a closed period',
      description:
        'Each changed entry of each new version: old and new value, status and completeness, and the causes.',
      tag: 'rollups',
      access: 'viewer',
      params: periodParams,
      response: z.object({ period: z.string(), restatements: z.array(restatementSchema) }),
      handle: ({ params }) => {
        const r = kpis.restatements(params.period);
        return {
          period: r.period,
          restatements: r.restatements.map((x) => ({ ...x, at: new Date(x.at).toISOString() })),
        };
      },
    }),
  ];
}
