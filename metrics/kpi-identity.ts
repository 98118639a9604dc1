import { z } from 'zod';
import { compactCode, type KpiDefinition } from './catalogue/catalogue.ts';

/**
 * What names a KPI wherever one of its values is listed, rolled up or exported: the official and compact
 * codes, the name, and its place in the U4SSC structure (dimension, sub-dimension, category). The types of
 * roll-up entries and list items, and the schemas of the JSON export and the API, all start from this one.
 */
export const kpiIdentitySchema = z.object({
  code: z.string(),
  compactCode: z.string(),
  name: z.string(),
  dimension: z.string(),
  subDimension: z.string(),
  category: z.string(),
});

export type KpiIdentity = z.infer<typeof kpiIdentitySchema>;

/** The identity of a catalogue entry, keys always in this order (the JSON export is byte-stable). */
export function kpiIdentity(def: KpiDefinition): KpiIdentity {
  return {
    code: def.code,
    compactCode: compactCode(def.code),
    name: def.name,
    dimension: def.dimension,
    subDimension: def.subDimension,
    category: def.category,
  };
}
