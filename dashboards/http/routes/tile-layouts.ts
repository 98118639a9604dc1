import { CityError } from '../../../core/errors.ts';
import type { KpiCatalogue } from '../../../metrics/catalogue/catalogue.ts';
import type { ApiKeyStore } from '../api-key-store.ts';
import { type AnyRoute, defineRoute } from '../define-route.ts';
import type { Role } from '../roles.ts';
import { toIso } from '../schemas/common.ts';
import { tileLayoutBodySchema, tileLayoutParams, tileLayoutSchema } from '../schemas/tile-layouts.ts';
import { defaultTileCodes } from '../tile-defaults.ts';
import { byPrincipal } from './kpis.ts';

/** The overview's KPI tiles per role: anyone reads them, only an admin chooses them. */
export function tileLayoutRoutes(deps: { apiKeys: ApiKeyStore; catalogue: KpiCatalogue }): AnyRoute[] {
  const { apiKeys, catalogue } = deps;

  async function view(role: Role) {
    const saved = await apiKeys.tileLayout(role);
    // A KPI dropped from the catalogue since the layout was saved is left out, not shown as a broken tile.
    const codes = saved?.codes.filter((c) => catalogue.get(c) !== undefined) ?? [];
    if (saved === null || codes.length === 0)
      return {
        role,
        codes: defaultTileCodes(catalogue),
        configured: false,
        updatedBy: null,
        updatedAt: null,
      };
    return { role, codes, configured: true, updatedBy: saved.updatedBy, updatedAt: toIso(saved.updatedAt) };
  }

  return [
    defineRoute({
      method: 'get',
      path: '/api/tile-layouts/:role',
      summary: 'The KPI tiles a role sees',
      description:
        'The overview tiles of a role, in order: the layout an admin saved, or (`configured: false`) the default, which leads with the KPIs sensors feed (air pollution, noise, water, energy, traffic) and then the coverage ratios.',
      tag: 'kpis',
      access: 'viewer',
      params: tileLayoutParams,
      response: tileLayoutSchema,
      handle: ({ params }) => view(params.role),
    }),
    defineRoute({
      method: 'put',
      path: '/api/tile-layouts/:role',
      summary: 'Choose the KPI tiles of a role',
      description:
        'Replaces the role’s tiles with these KPIs, in this order. Every code must name a KPI (else 400 API_VALIDATION naming the entry) and appear once.',
      tag: 'kpis',
      access: 'admin',
      params: tileLayoutParams,
      body: tileLayoutBodySchema,
      response: tileLayoutSchema,
      handle: async ({ params, body, principal }) => {
        const codes: string[] = [];
        for (const [i, param] of body.codes.entries()) {
          const def = catalogue.parseCodeParam(param);
          if (def === null)
            throw new CityError('API_VALIDATION', `no KPI "${param}"`, { field: `body.codes.${i}` });
          if (codes.includes(def.code))
            throw new CityError('API_VALIDATION', `${def.code} is listed twice`, {
              field: `body.codes.${i}`,
            });
          codes.push(def.code);
        }
        await apiKeys.setTileLayout(params.role, codes, byPrincipal(principal));
        return view(params.role);
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/api/tile-layouts/:role',
      summary: 'Back to the default tiles',
      description: 'Drops the role’s saved layout; it sees the default headline tiles again.',
      tag: 'kpis',
      access: 'admin',
      params: tileLayoutParams,
      status: 204,
      handle: async ({ params }) => {
        await apiKeys.resetTileLayout(params.role);
        return undefined;
      },
    }),
  ];
}
