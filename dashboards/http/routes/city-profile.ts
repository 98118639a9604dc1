import { CityError } from '../../../core/errors.ts';
import type { KpiService } from '../../../metrics/kpi-service.ts';
import { type AnyRoute, defineRoute } from '../define-route.ts';
import { anyObject, profileBodySchema } from '../schemas/kpis.ts';
import { byPrincipal } from './kpis.ts';

/** The effective-dated city profile that feeds per-capita and per-100 000 KPIs. */
export function cityProfileRoutes(deps: { kpis: KpiService }): AnyRoute[] {
  const { kpis } = deps;
  return [
    defineRoute({
      method: 'get',
      path: '/api/city-profile',
      summary: 'The city profile now, with its history',
      tag: 'kpis',
      access: 'viewer',
      response: anyObject,
      handle: () => kpis.deps.profile.view(),
    }),
    defineRoute({
      method: 'put',
      path: '/api/city-profile',
      summary: 'Set profile figures from a date',
      description:
        'Figures hold from `effectiveFrom` (local date) on; earlier periods keep earlier figures. KPIs recompute; closed periods from that date are restated.',
      tag: 'kpis',
      access: 'analyst',
      body: profileBodySchema,
      response: anyObject,
      handle: async ({ body, principal }) => {
        const { timeZone, ...update } = body;
        const current = kpis.deps.profile.view().timeZone;
        if (timeZone !== undefined && timeZone !== current)
          throw new CityError('API_CONFLICT', `the time zone is set by CITY_TIMEZONE at start (${current})`, {
            field: 'timeZone',
          });
        return kpis.updateProfile(update, byPrincipal(principal));
      },
    }),
  ];
}
