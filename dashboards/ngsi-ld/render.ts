import type { Request } from 'express';
import type { Attribute, Entity } from './entity.ts';

/**
 * Representations and content negotiation (ETSI GS CIM 009, 4.5 and 6.3.6). `application/ld+json` carries
 * the @context in the body; `application/json` carries none and names it in a Link header instead. The
 * context lists the Smart Data Models contexts of the published types, the NGSI-LD core context last.
 */

export const NGSI_LD_BASE = '/ngsi-ld/v1';
export const CONTEXT_PATH = `${NGSI_LD_BASE}/jsonldContexts/citymetrics.jsonld`;

export const CONTEXT_URLS: readonly string[] = [
  'https://raw.githubusercontent.com/smart-data-models/dataModel.Environment/master/context.jsonld',
  'https://raw.githubusercontent.com/smart-data-models/dataModel.Transportation/master/context.jsonld',
  'https://raw.githubusercontent.com/smart-data-models/dataModel.WaterConsumption/master/context.jsonld',
  'https://raw.githubusercontent.com/smart-data-models/dataModel.KeyPerformanceIndicator/master/context.jsonld',
  'https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld',
];

export type MediaType = 'application/json' | 'application/ld+json';

/**
 * The representation asked for in Accept. A client that accepts neither NGSI-LD media type gets
 * application/json, the representation every JSON client reads.
 */
export const negotiate = (req: Request): MediaType =>
  req.accepts(['application/json', 'application/ld+json']) === 'application/ld+json'
    ? 'application/ld+json'
    : 'application/json';

/** The Link header naming the context of an application/json answer. */
export const contextLink = (req: Request): string =>
  `<${req.protocol}://${req.get('host') ?? 'localhost'}${CONTEXT_PATH}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"`;

export function render(
  e: Entity,
  opts: { keyValues: boolean; attrs: ReadonlySet<string> | null; media: MediaType },
): Record<string, unknown> {
  const out: Record<string, unknown> = { id: e.id, type: e.type };
  for (const [name, attr] of Object.entries(e.attributes)) {
    if (opts.attrs !== null && !opts.attrs.has(name)) continue;
    out[name] = opts.keyValues ? attr.value : normalized(attr);
  }
  if (opts.media === 'application/ld+json') out['@context'] = CONTEXT_URLS;
  return out;
}

function normalized(attr: Attribute): Record<string, unknown> {
  if (attr.type === 'GeoProperty') return { type: 'GeoProperty', value: attr.value };
  return {
    type: 'Property',
    value: attr.dateTime ? { '@type': 'DateTime', '@value': attr.value } : attr.value,
    ...(attr.observedAt !== undefined ? { observedAt: new Date(attr.observedAt).toISOString() } : {}),
    ...(attr.unitCode !== undefined ? { unitCode: attr.unitCode } : {}),
  };
}
