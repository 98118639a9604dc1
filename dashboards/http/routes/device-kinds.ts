import { z } from 'zod';
import { deviceKindSchema } from '../../../core/device-kind.ts';
import type { KindCatalogue } from '../../../devices/kind-catalogue.ts';
import { type AnyRoute, defineRoute } from '../define-route.ts';

export const deviceKindListSchema = z
  .object({ items: z.array(deviceKindSchema.meta({ id: 'DeviceKind' })) })
  .meta({ id: 'DeviceKindList' });

/** The kinds: metrics with canonical and accepted units, plausible ranges, intervals, events, attributes. */
export function deviceKindRoutes(deps: { kinds: KindCatalogue }): AnyRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/api/device-kinds',
      summary: 'Device kinds and what each reports',
      tag: 'devices',
      access: 'viewer',
      response: deviceKindListSchema,
      handle: () => ({ items: deps.kinds.list() }),
    }),
  ];
}
