import { z } from 'zod';
import type { DeviceRecord } from '../../../core/ports/device-directory.ts';
import {
  attributeValueSchema,
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
  lastSeenAt: toIsoOrNull(r.lastSeenAt),
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
