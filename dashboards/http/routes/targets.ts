import type { KpiService } from '../../../metrics/kpi-service.ts';
import { type AnyRoute, defineRoute } from '../define-route.ts';
import { anyObject, kpiCodeParams, targetBodySchema } from '../schemas/kpis.ts';
import { byPrincipal } from './kpis.ts';

/** Benchmark targets per KPI: the defaults, or the city's own. */
export function targetRoutes(deps: { kpis: KpiService }): AnyRoute[] {
  const { kpis } = deps;
  return [
    defineRoute({
      method: 'get',
      path: '/api/targets/:code',
      summary: 'The target of a KPI',
      tag: 'kpis',
      access: 'viewer',
      params: kpiCodeParams,
      response: anyObject,
      handle: ({ params }) => kpis.deps.targets.view(kpis.requireKpi(params.code).code),
    }),
    defineRoute({
      method: 'put',
      path: '/api/targets/:code',
      summary: 'Set the target of a KPI',
      description:
        'A value, or per data point (Air Pollution: PM2.5, PM10, NO2, SO2, O3), with its source. Targets hold for every period: each closed period the new target re-scores is restated (a new roll-up version, cause `target` with the old and new target).',
      tag: 'kpis',
      access: 'analyst',
      params: kpiCodeParams,
      body: targetBodySchema,
      response: anyObject,
      handle: ({ params, body, principal }) => kpis.setTarget(params.code, body, byPrincipal(principal)),
    }),
  ];
}
