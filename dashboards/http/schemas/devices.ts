import { z } from 'zod';
import type { DeviceRecord } from '../../../core/ports/device-directory.ts';
import type { DeviceLifeChange } from '../../../core/ports/registry-persistence.ts';
import {
  attributeValueSchema,
  decommissionInputSchema,
  deviceIdSchema,
  listFilterSchema,
  locationSchema,
  provisionInputSchema,
  updateInputSchema,
} from '../../../devices/registry-schema.ts';
import { isoInstant, toIso, toIsoOrNull } from './common.ts';

/**
 * Device schemas. Inputs are the registry's own schemas (devices/registry-schema.ts): the API refuses
 * exactly what the registry would, and the document describes exactly that.
 */

export const deviceSchema = z
  .object({
    id: deviceIdSchema,
    kind: z.string(),
    name: z.string(),
    district: z.string(),
    location: locationSchema.nullable(),
    attributes: z.record(z.string(), attributeValueSchema),
    devEui: z.string().nullable().meta({
      description: 'LoRaWAN DevEUI (16 lower-case hex digits) when readings come from a network server',
    }),
    status: z.enum(['active', 'disabled']),
    online: z.boolean().meta({ description: 'connected to the broker now' }),
    createdAt: isoInstant,
    installedAt: isoInstant.meta({
      description: 'start of the installed interval: readings stamped before it are refused',
    }),
    removedAt: isoInstant.nullable().meta({
      description: 'end of the installed interval (exclusive), null while installed',
    }),
    disabledAt: isoInstant.nullable().meta({
      description:
        'since when it is disabled, null while active; the KPIs count it until then, as if removed there',
    }),
    lastSeenAt: isoInstant.nullable().meta({ description: 'last accepted message, null if never' }),
  })
  .meta({ id: 'Device' });

export type DeviceJson = z.infer<typeof deviceSchema>;

export const toDeviceJson = (r: DeviceRecord): DeviceJson => ({
  id: r.id,
  kind: r.kind,
  name: r.name,
  district: r.district,
  location: r.location,
  attributes: r.attributes,
  devEui: r.devEui ?? null,
  status: r.status,
  online: r.online,
  createdAt: toIso(r.createdAt),
  installedAt: toIso(r.installedAt),
  removedAt: toIsoOrNull(r.removedAt),
  disabledAt: r.status === 'disabled' ? toIsoOrNull(r.disabledAt ?? r.installedAt) : null,
  lastSeenAt: toIsoOrNull(r.lastSeenAt),
});

export const decommissionBodySchema = decommissionInputSchema.meta({ id: 'DecommissionDevice' });

const lifeSchema = z.object({ installedAt: isoInstant, removedAt: isoInstant.nullable() });

export const deviceLifeHistorySchema = z
  .object({
    deviceId: deviceIdSchema,
    installedAt: isoInstant,
    removedAt: isoInstant.nullable(),
    changes: z.array(
      z.object({
        at: isoInstant,
        by: z.string().meta({ description: 'the API key that made the change: name (id)' }),
        action: z.enum(['update', 'decommission']),
        before: lifeSchema,
        after: lifeSchema,
        forced: z.boolean().meta({ description: 'made although it left stored readings outside' }),
      }),
    ),
  })
  .meta({ id: 'DeviceLifeHistory' });

export const toLifeChangeJson = (c: DeviceLifeChange) => ({
  at: toIso(c.at),
  by: c.by,
  action: c.action,
  before: { installedAt: toIso(c.before.installedAt), removedAt: toIsoOrNull(c.before.removedAt) },
  after: { installedAt: toIso(c.after.installedAt), removedAt: toIsoOrNull(c.after.removedAt) },
  forced: c.forced,
});

export const provisionBodySchema = provisionInputSchema.meta({ id: 'ProvisionDevice' });

export const provisionedSchema = deviceSchema
  .extend({
    password: z.string().meta({ description: 'the MQTT password: shown here only, never again' }),
  })
  .meta({ id: 'ProvisionedDevice' });

export const updateBodySchema = updateInputSchema
  .refine((patch) => Object.keys(patch).length > 0, { message: 'give at least one field to change' })
  .meta({ id: 'UpdateDevice' });

export const deviceListQuerySchema = listFilterSchema;

export const deviceListSchema = z
  .object({
    items: z.array(deviceSchema),
    total: z.number().int().meta({ description: 'matches before paging' }),
  })
  .meta({ id: 'DeviceList' });

export const passwordSchema = z
  .object({ id: deviceIdSchema, password: z.string().meta({ description: 'shown here only, never again' }) })
  .meta({ id: 'DevicePassword' });

export const latestSchema = z
  .object({
    deviceId: deviceIdSchema,
    values: z.array(
      z.object({
        metric: z.string(),
        ts: isoInstant.meta({
          description: 'timestamp of the reading (newest by reading time, not arrival)',
        }),
        value: z.number(),
        unit: z
          .string()
          .nullable()
          .meta({ description: 'canonical unit; null if the kind no longer declares it' }),
      }),
    ),
  })
  .meta({ id: 'LatestValues' });
