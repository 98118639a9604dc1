import { z } from 'zod';
import { CityError } from '../../core/errors.ts';
import type { Entity } from './entity.ts';

/**
 * The part of the NGSI-LD query language (ETSI GS CIM 009, 4.9) a context consumer needs here: `q` as one
 * equality on the district, the only attribute the entities can be filtered on. Anything else is refused
 * with 400 BadRequestData (API_VALIDATION) rather than ignored: a consumer whose filter were dropped would
 * take the whole city for the district it asked for.
 */

/** `district` (short form), `areaServed`, or the compound member `address[district]`. */
const DISTRICT_PATHS = new Set(['district', 'areaServed', 'address[district]']);
const EQUALITY =
  /^([A-Za-z][A-Za-z0-9_]*(?:\[[A-Za-z][A-Za-z0-9_]*\])?)==("(?:[^"\\]|\\.)*"|[^"=;|()<>!~]+)$/;

export const MAX_LIMIT = 1000;
export const DEFAULT_LIMIT = 20;

const list = z.string().max(2000).optional();
export const entityQuerySchema = z
  .object({
    type: list.meta({ description: 'entity types, comma-separated; required on the list' }),
    id: list.meta({ description: 'entity ids (URNs), comma-separated' }),
    attrs: list.meta({ description: 'attributes to return, comma-separated' }),
    q: z.string().max(500).optional().meta({
      description: 'one equality on the district: `district=="Old Town"`',
      example: 'district=="Old Town"',
    }),
    limit: z
      .string()
      .max(10)
      .optional()
      .meta({ description: `page size, 0..${MAX_LIMIT}, default ${DEFAULT_LIMIT}` }),
    offset: z.string().max(10).optional(),
    count: z.enum(['true', 'false']).optional().meta({ description: 'send NGSILD-Results-Count' }),
    options: z
      .string()
      .max(100)
      .optional()
      .meta({ description: '`keyValues` (simplified) or `normalized` (default)' }),
  })
  .strict();

export type EntityQueryInput = z.output<typeof entityQuerySchema>;

export interface EntityQuery {
  types: ReadonlySet<string> | null;
  ids: ReadonlySet<string> | null;
  attrs: ReadonlySet<string> | null;
  district: string | null;
  limit: number;
  offset: number;
  count: boolean;
  keyValues: boolean;
}

const bad = (field: string, message: string) => new CityError('API_VALIDATION', message, { field });

const split = (text: string | undefined): string[] | null =>
  text === undefined
    ? null
    : text
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);

const NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
const URI = /^[A-Za-z][A-Za-z0-9+.-]*:\S+$/;

export function parseEntityQuery(input: EntityQueryInput, opts: { requireType: boolean }): EntityQuery {
  const types = split(input.type);
  if (opts.requireType && (types === null || types.length === 0))
    throw bad('type', 'type is required: name one or more entity types, comma-separated');
  for (const t of types ?? []) if (!NAME.test(t)) throw bad('type', `not an entity type name: ${t}`);
  const ids = split(input.id);
  for (const id of ids ?? []) if (!URI.test(id)) throw bad('id', `not a URI: ${id}`);
  const attrs = split(input.attrs);
  for (const a of attrs ?? []) if (!NAME.test(a)) throw bad('attrs', `not an attribute name: ${a}`);
  const options = split(input.options) ?? [];
  for (const o of options)
    if (o !== 'keyValues' && o !== 'normalized') throw bad('options', `option not supported: ${o}`);
  if (options.includes('keyValues') && options.includes('normalized'))
    throw bad('options', 'keyValues and normalized exclude each other');
  return {
    types: types === null ? null : new Set(types),
    ids: ids === null ? null : new Set(ids),
    attrs: attrs === null ? null : new Set(attrs),
    district: input.q === undefined ? null : parseDistrictQ(input.q),
    limit: integer('limit', input.limit, DEFAULT_LIMIT, MAX_LIMIT),
    offset: integer('offset', input.offset, 0, Number.MAX_SAFE_INTEGER),
    count: input.count === 'true',
    keyValues: options.includes('keyValues'),
  };
}

function integer(field: string, text: string | undefined, fallback: number, max: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) > max) throw bad(field, `${field} must be an integer 0..${max}`);
  return Number(text);
}

/** The district a `q` asks for; every other form of the query language is refused. */
export function parseDistrictQ(q: string): string {
  const m = EQUALITY.exec(q.trim());
  if (m === null)
    throw bad(
      'q',
      'only one equality is supported: q=district=="<name>" (also areaServed, address[district])',
    );
  const [, path, raw] = m as unknown as [string, string, string];
  if (!DISTRICT_PATHS.has(path))
    throw bad('q', `q can filter on district, areaServed or address[district], not ${path}`);
  if (!raw.startsWith('"')) throw bad('q', 'a district is a string: quote it, district=="Old Town"');
  return raw.slice(1, -1).replace(/\\(.)/g, '$1');
}

/** Entities passing the type, id, district and attrs filters (attrs: at least one of them present). */
export function matches(e: Entity, query: EntityQuery): boolean {
  if (query.types !== null && !query.types.has(e.type)) return false;
  if (query.ids !== null && !query.ids.has(e.id)) return false;
  if (query.district !== null && e.district !== query.district) return false;
  if (query.attrs !== null && ![...query.attrs].some((a) => a in e.attributes)) return false;
  return true;
}
