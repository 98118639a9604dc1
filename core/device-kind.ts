import { z } from 'zod';

/**
 * How a device kind is described. Kinds are data (devices/kinds/), validated against this schema when
 * they load, so a mistake in a kind file stops the platform at start rather than mis-reading a sensor.
 */
export const unitConversionSchema = z
  .object({
    /** canonical = value × factor + offset */
    factor: z.number().positive(),
    offset: z.number().default(0),
    /** Why the factor is what it is (reference conditions for ppb → µg/m³, for example). */
    note: z.string().optional(),
  })
  .strict();

export const metricSpecSchema = z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9_]{0,31}$/),
    description: z.string(),
    /** Canonical unit: every stored value is in this unit. */
    unit: z.string().min(1),
    /** Accepted other units and how to convert them to the canonical unit. */
    altUnits: z.record(z.string().min(1), unitConversionSchema).default({}),
    /** Plausible range in the canonical unit; values outside are refused (INGEST_OUT_OF_RANGE). */
    min: z.number(),
    max: z.number(),
    /**
     * How readings combine over time. `mean` for levels (PM2.5, LAeq), `sum` for quantities per
     * reporting interval (kWh, m³, vehicles), `last` for states (supply on/off).
     */
    aggregation: z.enum(['mean', 'sum', 'last']),
  })
  .strict()
  .refine((m) => m.min < m.max, { message: 'min must be below max' });

export const attributeSpecSchema = z
  .object({
    type: z.enum(['number', 'string', 'boolean']),
    description: z.string(),
    unit: z.string().optional(),
    required: z.boolean().default(false),
  })
  .strict();

export const deviceKindSchema = z
  .object({
    id: z.string().regex(/^[a-z][a-z0-9-]{1,47}$/),
    name: z.string(),
    description: z.string(),
    domain: z.enum([
      'air',
      'noise',
      'water',
      'electricity',
      'traffic',
      'emf',
      'transport',
      'heat',
      'building',
      'waste',
      'ict',
      'safety',
    ]),
    /** Expected seconds between readings: completeness (expected vs received) is computed from it. */
    intervalSec: z.number().int().positive(),
    metrics: z.array(metricSpecSchema).min(1),
    /** Discrete event types the kind may publish on `devices/{id}/events`. */
    events: z.array(z.string().regex(/^[a-z][a-z0-9_]{0,31}$/)).default([]),
    /** Asset attributes the KPIs need (segment length, customers served...), set at provisioning. */
    attributes: z.record(z.string(), attributeSpecSchema).default({}),
  })
  .strict();

export type UnitConversion = z.infer<typeof unitConversionSchema>;
export type MetricSpec = z.infer<typeof metricSpecSchema>;
export type DeviceKind = z.infer<typeof deviceKindSchema>;
