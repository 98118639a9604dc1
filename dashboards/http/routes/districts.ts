import { z } from 'zod';
import type { DeviceRegistry } from '../../../devices/registry.ts';
import { type AnyRoute, defineRoute } from '../define-route.ts';

export const districtListSchema = z
  .object({
    items: z.array(
      z.object({
        name: z.string(),
        devices: z.number().int().meta({ description: 'devices registered in the district' }),
        online: z.number().int().meta({ description: 'of which online now' }),
      }),
    ),
  })
  .meta({ id: 'DistrictList' });

/** Districts that have at least one device, with device counts. */
export function districtRoutes(deps: { registry: DeviceRegistry }): AnyRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/api/districts',
      summary: 'Districts with devices',
      tag: 'devices',
      access: 'viewer',
      response: districtListSchema,
      handle: () => ({
        items: deps.registry.districts().map((name) => ({
          name,
          devices: deps.registry.count({ district: name }),
          online: deps.registry.count({ district: name, online: true }),
        })),
      }),
    }),
  ];
}
