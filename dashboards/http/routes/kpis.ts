import { z } from 'zod';
import type { KpiService } from '../../../metrics/kpi-service.ts';
import { type AnyRoute, defineRoute } from '../define-route.ts';
import type { Principal } from '../roles.ts';
import {
  anyObject,
  kpiCodeParams,
  kpiLineageSchema,
  kpiListItemSchema,
  kpiListQuerySchema,
  manualRecordSchema,
  manualValueBodySchema,
  toIsoRecord,
} from '../schemas/kpis.ts';

/** The principal of a route that requires a role (never null there). */
export const byPrincipal = (p: Principal | null) => ({
  keyId: p?.keyId ?? 'unknown',
  name: p?.name ?? 'unknown',
});

/** KPIs: list with current values, one KPI with its periods, lineage, manual values (analyst). */
export function kpiRoutes(deps: { kpis: KpiService }): AnyRoute[] {
  const { kpis } = deps;
  return [
    defineRoute({
      method: 'get',
      path: '/api/kpis',
      summary: 'KPIs with their current values',
      description:
        'Month to date, year to date and rolling 12 months per KPI, with score and trend; filter by dimension, sub-dimension, category, level or how the value is obtained.',
      tag: 'kpis',
      access: 'viewer',
      query: kpiListQuerySchema,
      response: z.object({ items: z.array(kpiListItemSchema) }).meta({ id: 'KpiList' }),
      handle: async ({ query }) => ({ items: await kpis.list(query) }),
    }),
    defineRoute({
      method: 'get',
      path: '/api/kpis/:code',
      summary: 'One KPI with its values per period',
      description:
        'Current values, each closed month (newest version) and the month-over-month and year-over-year trend.',
      tag: 'kpis',
      access: 'viewer',
      params: kpiCodeParams,
      response: anyObject,
      handle: ({ params }) => kpis.detail(params.code),
    }),
    defineRoute({
      method: 'get',
      path: '/api/kpis/:code/lineage',
      summary: 'Explain a number',
      description:
        'The value with its status and the reason for it (`statusReason`, `statusWhy`), and the devices, series, reading counts, manual inputs, registry counts and formula version behind it. `period`: `YYYY-MM`, `YYYY`, `YYYY-Qn`, `YYYY-MM-mtd`, `YYYY-ytd`, `YYYY-MM-r12` (default: this month to date).',
      tag: 'kpis',
      access: 'viewer',
      params: kpiCodeParams,
      query: z.object({ period: z.string().max(16).optional() }).strict(),
      response: kpiLineageSchema,
      handle: ({ params, query }) => kpis.lineage(params.code, query.period),
    }),
    defineRoute({
      method: 'post',
      path: '/api/kpis/:code/values',
      summary: 'Enter a manual value',
      description:
        'Unit, range, data-quality class and the verifier consistency rules are checked. A sensor-derived KPI takes a manual value only with `override: true` (else 409 METRICS_OVERRIDE_REQUIRED); the override is recorded and shown as source `override`.',
      tag: 'kpis',
      access: 'analyst',
      params: kpiCodeParams,
      body: manualValueBodySchema,
      status: 201,
      response: manualRecordSchema,
      handle: async ({ params, body, principal }) => {
        const def = kpis.requireKpi(params.code);
        const [added] = await kpis.enterValues([{ ...body, code: def.code }], byPrincipal(principal));
        return toIsoRecord(added!);
      },
    }),
  ];
}
