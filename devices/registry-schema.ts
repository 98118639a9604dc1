import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { DeviceKind } from '../core/device-kind.ts';
import { CityError } from '../core/errors.ts';
import type { AttributeValue, DeviceStatus } from '../core/ports/device-directory.ts';
import { DEVICE_ID_PATTERN } from '../core/topics.ts';
import { lifeInstantSchema } from './device-life.ts';

/**
 * Input schemas of the registry, exported so the HTTP layer validates with the very same rules (and the
 * OpenAPI document is generated from them).
 */

// Control characters (C0, DEL, C1) would break log lines, CSV exports and terminal output.
// biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to match them
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;

const label = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .refine((s) => !CONTROL_CHARS.test(s), { message: 'must not contain control characters' });

export const districtSchema = label(64);
export const deviceNameSchema = label(128);

export const locationSchema = z
  .object({
    lat: z.number().min(-90).max(90),
    lon: z.number().min(-180).max(180),
  })
  .strict();

export const attributeValueSchema = z.union([z.string().max(256), z.number(), z.boolean()]);

const attributeKey = z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/);

export const deviceIdSchema = z
  .string()
  .regex(
    DEVICE_ID_PATTERN,
    'lower-case letters, digits, _ and -, at most 64, starting with a letter or digit',
  );

/** A LoRaWAN DevEUI (EUI-64): 16 hex digits, either case, stored lower-case as ChirpStack writes it. */
export const devEuiSchema = z
  .string()
  .regex(/^[0-9A-Fa-f]{16}$/, '16 hex digits (the LoRaWAN DevEUI)')
  .transform((s) => s.toLowerCase());

export const provisionInputSchema = z
  .object({
    kind: z.string().min(1).max(64),
    district: districtSchema,
    name: deviceNameSchema.optional(),
    location: locationSchema.nullable().optional(),
    attributes: z.record(attributeKey, attributeValueSchema).optional(),
    id: deviceIdSchema.optional(),
    devEui: devEuiSchema.optional(),
    /** Start of the installed interval; default the provisioning time. Earlier, for a back-fill. */
    installedAt: lifeInstantSchema.optional(),
    /** End of the installed interval (exclusive), for a device provisioned after it was removed. */
    removedAt: lifeInstantSchema.optional(),
  })
  .strict();

/** A partial update. `attributes` is merged into the current set; an attribute set to null is removed. */
export const updateInputSchema = z
  .object({
    name: deviceNameSchema.optional(),
    district: districtSchema.optional(),
    location: locationSchema.nullable().optional(),
    attributes: z.record(attributeKey, attributeValueSchema.nullable()).optional(),
    /** null removes the DevEUI. */
    devEui: devEuiSchema.nullable().optional(),
    /** New start of the installed interval. */
    installedAt: lifeInstantSchema.optional(),
    /** New end of the installed interval; null: installed again, with no end. */
    removedAt: lifeInstantSchema.nullable().optional(),
    /** Change the interval even though stored readings then fall outside it (they stay stored, unused). */
    force: z.boolean().optional(),
  })
  .strict();

/** Decommissioning: the device is removed at `at` (default now, never later). */
export const decommissionInputSchema = z
  .object({
    at: lifeInstantSchema.optional(),
    force: z.boolean().optional(),
  })
  .strict();

const queryBool = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);

/** List filter; accepts query-string forms too (`online=true`, `limit=50`). */
export const listFilterSchema = z
  .object({
    kind: z.string().max(64).optional(),
    district: z.string().max(64).optional(),
    status: z.enum(['active', 'disabled']).optional(),
    online: queryBool.optional(),
    q: z.string().max(128).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    offset: z.coerce.number().int().min(0).default(0),
  })
  .strict();

export type ProvisionInput = z.input<typeof provisionInputSchema>;
export type UpdateInput = z.input<typeof updateInputSchema>;
export type DecommissionInput = z.input<typeof decommissionInputSchema>;
export interface ListFilter {
  kind?: string;
  district?: string;
  status?: DeviceStatus;
  online?: boolean;
  /** Case-insensitive substring of the id or the name. */
  q?: string;
  /** Default 100, at most 1000. */
  limit?: number;
  offset?: number;
}

/** Parses with a schema; the first issue becomes an API_VALIDATION error whose `field` names its path. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.map(String).join('.') : undefined;
  throw new CityError('API_VALIDATION', issue ? `${field ?? 'input'}: ${issue.message}` : undefined, {
    field,
    details: result.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })),
  });
}

/**
 * Checks attributes against what the kind declares: an undeclared attribute, a wrong type or a missing
 * required one is refused, with `field` set to `attributes.<name>`.
 */
export function checkAttributes(kind: DeviceKind, attributes: Record<string, AttributeValue>): void {
  for (const [key, value] of Object.entries(attributes)) {
    const spec = kind.attributes[key];
    const field = `attributes.${key}`;
    if (!spec) throw new CityError('API_VALIDATION', `${kind.id} declares no attribute "${key}"`, { field });
    if (typeof value !== spec.type) {
      throw new CityError('API_VALIDATION', `attribute "${key}" must be a ${spec.type}`, { field });
    }
  }
  for (const [key, spec] of Object.entries(kind.attributes)) {
    if (spec.required && !(key in attributes)) {
      throw new CityError('API_VALIDATION', `${kind.id} requires attribute "${key}"`, {
        field: `attributes.${key}`,
      });
    }
  }
}

/** Short id prefixes per kind: readable in topics and logs (`aq-k3x9m2p7`). */
export const ID_PREFIXES: Readonly<Record<string, string>> = {
  'air-quality-station': 'aq',
  'noise-monitor': 'noise',
  'water-inflow-meter': 'wflow',
  'water-smart-meter': 'wmeter',
  'water-quality-sonde': 'wq',
  'electricity-smart-meter': 'emeter',
  'electricity-feeder-meter': 'feeder',
  'renewable-generation-meter': 'gen',
  'traffic-counter': 'traffic',
  'emf-probe': 'emf',
  'transit-stop-display': 'stop',
  'traffic-signal-controller': 'signal',
  'heat-meter': 'heat',
  'building-energy-meter': 'bldg',
};

// Crockford-style base32 without i, l, o, u: nothing to misread when an id is typed from a label.
const ID_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const ID_RANDOM_CHARS = 8;

/** A fresh id: the kind's prefix (or its first word for kinds added later) and 40 random bits. */
export function generateDeviceId(kindId: string): string {
  const prefix = ID_PREFIXES[kindId] ?? kindId.split('-')[0] ?? 'dev';
  const bytes = randomBytes(ID_RANDOM_CHARS);
  let suffix = '';
  for (const b of bytes) suffix += ID_ALPHABET[b & 31];
  return `${prefix}-${suffix}`;
}

/** "Air-quality station aq-k3x9m2p7" */
export const defaultDeviceName = (kind: DeviceKind, id: string): string => `${kind.name} ${id}`;
