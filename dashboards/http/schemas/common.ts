import { z } from 'zod';
import 'zod-openapi';
import { deviceIdSchema } from '../../../devices/registry-schema.ts';

/** The one error body every failure answers with (see error-mapper.ts). */
export const errorResponseSchema = z
  .object({
    error: z.object({
      code: z
        .string()
        .meta({ description: 'stable code from the error catalogue', example: 'API_VALIDATION' }),
      message: z.string(),
      field: z
        .string()
        .optional()
        .meta({ description: 'path of the offending input, e.g. `body.location.lat`' }),
      details: z.unknown().optional(),
    }),
  })
  .meta({ id: 'Error' });

/** An instant as ISO-8601 in UTC, as every response gives it. */
export const isoInstant = z.string().meta({ format: 'date-time', example: '2026-03-01T12:00:00.000Z' });

export const toIso = (ms: number): string => new Date(ms).toISOString();
export const toIsoOrNull = (ms: number | null): string | null => (ms === null ? null : toIso(ms));

export const deviceIdParams = z
  .object({ id: deviceIdSchema.meta({ description: 'device id', example: 'aq-k3x9m2p7' }) })
  .strict();
