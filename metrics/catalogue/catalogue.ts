import { readFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * The U4SSC KPI catalogue (91 KPIs, ITU-T Y.4903/L.1603) as data. `kpis.json` is a copy of the project's
 * reference data with the fields the product needs; it is validated here once, at load, so a bad edit
 * stops the platform at start with every problem listed.
 */

/**
 * How citymetrics obtains a value:
 * - `sensor`: from sensor/meter streams or device events; city-profile figures (population) and device
 *   attributes (segment length, customers served) may serve as denominator or weights.
 * - `registry`: from device/asset registry counts alone.
 * - `manual`: entered by an analyst (statistics, surveys, plans).
 * - `mixed`: registry or sensor data combined with a manually entered input (e.g. smart meters counted in
 *   the registry over the utility's total meter count, entered by hand).
 */
export const OBTAINED = ['sensor', 'registry', 'manual', 'mixed'] as const;
export type Obtained = (typeof OBTAINED)[number];

export const LEVELS = ['core', 'advanced'] as const;
export type KpiLevel = (typeof LEVELS)[number];

/**
 * `target`: closer to a reference value is better (Gender Income Equity: 1); `composition`: a split whose
 * parts are judged separately (mode share, waste treatment). The source wording is kept in betterWhenNote.
 */
export const BETTER_WHEN = ['higher', 'lower', 'target', 'composition'] as const;
export type BetterWhen = (typeof BETTER_WHEN)[number];

const kpiTypeSchema = z.enum(['smart', 'structural', 'sustainable']);

export const kpiDefinitionSchema = z
  .object({
    code: z.string().regex(/^[A-Z]{2}: [A-Z]{1,3}: [A-Z]{1,3}: \d{1,2}[CA]$/),
    name: z.string().min(1),
    dimension: z.string().min(1),
    subDimension: z.string().min(1),
    category: z.string().min(1),
    level: z.enum(LEVELS),
    /** smart / structural / sustainable as read on the official page; null where it was not read */
    type: kpiTypeSchema.nullable(),
    /** an analyst's guess where `type` is null */
    typeGuess: kpiTypeSchema.nullable(),
    unit: z.string().min(1),
    /** caveat on the unit from the source ("assumed; not confirmed", "annual mean per pollutant") */
    unitNote: z.string().nullable(),
    formula: z.string().min(1),
    definition: z.string().nullable(),
    inputs: z.array(z.string()),
    dataPoints: z.array(z.string().min(1)).min(1),
    sdgs: z.array(z.number().int().min(1).max(17)),
    sdgRefs: z.array(z.string()),
    /** the source says it can be computed continuously from streams (30 can) */
    sensorDerivable: z.boolean(),
    sensorNote: z.string().nullable(),
    obtained: z.enum(OBTAINED),
    betterWhen: z.enum(BETTER_WHEN),
    betterWhenNote: z.string().nullable(),
    /** confirmed: read on the official KPI page; partial; inferred: treat unit and formula with care */
    confidence: z.enum(['confirmed', 'partial', 'inferred']),
    /** addresses, or a description where the source has none */
    sources: z.array(z.string().min(1)),
    notes: z.array(z.string()),
    codeAsPrinted: z.string().optional(),
  })
  .strict()
  .refine((k) => k.code.endsWith(k.level === 'core' ? 'C' : 'A'), {
    message: 'level does not match the code suffix',
  });

export type KpiDefinition = z.infer<typeof kpiDefinitionSchema>;

const catalogueFileSchema = z
  .object({ $comment: z.string().optional(), kpis: z.array(kpiDefinitionSchema) })
  .strict();

export interface CategoryNode {
  name: string;
  codes: string[];
}
export interface SubDimensionNode {
  name: string;
  categories: CategoryNode[];
}
export interface DimensionNode {
  name: string;
  subDimensions: SubDimensionNode[];
}

export interface KpiFilter {
  dimension?: string;
  subDimension?: string;
  category?: string;
  level?: KpiLevel;
  obtained?: Obtained;
}

/** 'EN: EN: AQ: 1C' → 'EN-EN-AQ-1C': the form used in URLs, file names and metric labels. */
export function compactCode(code: string): string {
  return code
    .split(':')
    .map((p) => p.trim())
    .join('-');
}

/** 'EN-EN-AQ-1C' → 'EN: EN: AQ: 1C' (no check that the KPI exists). */
export function expandCode(compact: string): string {
  return compact.split('-').join(': ');
}

export class KpiCatalogue {
  private readonly byCode: ReadonlyMap<string, KpiDefinition>;
  private readonly byCompact: ReadonlyMap<string, KpiDefinition>;
  readonly kpis: readonly KpiDefinition[];

  constructor(input: unknown) {
    const parsed = catalogueFileSchema.safeParse(input);
    if (!parsed.success) throw new Error(`KPI catalogue is invalid:\n${z.prettifyError(parsed.error)}`);
    const byCode = new Map<string, KpiDefinition>();
    const byCompact = new Map<string, KpiDefinition>();
    for (const kpi of parsed.data.kpis) {
      if (byCode.has(kpi.code)) throw new Error(`KPI ${kpi.code} is declared twice`);
      const frozen = Object.freeze(kpi);
      byCode.set(kpi.code, frozen);
      byCompact.set(compactCode(kpi.code), frozen);
    }
    this.byCode = byCode;
    this.byCompact = byCompact;
    this.kpis = Object.freeze([...byCode.values()]);
  }

  get(code: string): KpiDefinition | undefined {
    return this.byCode.get(code);
  }

  /**
   * A KPI from a URL path parameter: the official code URL-encoded (`EN%3A%20EN%3A%20AQ%3A%201C`), the
   * official code already decoded, or the compact form (`EN-EN-AQ-1C`), case-insensitive. Unknown → null.
   */
  parseCodeParam(param: string): KpiDefinition | null {
    let decoded = param;
    try {
      decoded = decodeURIComponent(param);
    } catch {
      return null; // a malformed %-sequence names no KPI
    }
    const norm = decoded.trim().toUpperCase();
    if (norm.includes(':')) {
      // tolerate missing or extra spaces around the colons ('SC: EH: ED:1C' is how some pages print it)
      return this.byCompact.get(compactCode(norm)) ?? null;
    }
    return this.byCompact.get(norm) ?? null;
  }

  list(filter: KpiFilter = {}): KpiDefinition[] {
    return this.kpis.filter(
      (k) =>
        (filter.dimension === undefined || k.dimension === filter.dimension) &&
        (filter.subDimension === undefined || k.subDimension === filter.subDimension) &&
        (filter.category === undefined || k.category === filter.category) &&
        (filter.level === undefined || k.level === filter.level) &&
        (filter.obtained === undefined || k.obtained === filter.obtained),
    );
  }

  /** Dimensions → sub-dimensions → categories → KPI codes, in catalogue order. */
  hierarchy(): DimensionNode[] {
    const dims: DimensionNode[] = [];
    for (const k of this.kpis) {
      let d = dims.find((x) => x.name === k.dimension);
      if (d === undefined) {
        d = { name: k.dimension, subDimensions: [] };
        dims.push(d);
      }
      let s = d.subDimensions.find((x) => x.name === k.subDimension);
      if (s === undefined) {
        s = { name: k.subDimension, categories: [] };
        d.subDimensions.push(s);
      }
      let c = s.categories.find((x) => x.name === k.category);
      if (c === undefined) {
        c = { name: k.category, codes: [] };
        s.categories.push(c);
      }
      c.codes.push(k.code);
    }
    return dims;
  }
}

let loaded: KpiCatalogue | undefined;

/** The catalogue shipped with citymetrics (metrics/catalogue/kpis.json), loaded and validated once. */
export function loadCatalogue(): KpiCatalogue {
  if (loaded === undefined) {
    const text = readFileSync(new URL('./kpis.json', import.meta.url), 'utf8');
    loaded = new KpiCatalogue(JSON.parse(text));
  }
  return loaded;
}

/** Module-level conveniences over the shipped catalogue. */
export const parseCodeParam = (param: string): KpiDefinition | null => loadCatalogue().parseCodeParam(param);
export const listKpis = (filter: KpiFilter = {}): KpiDefinition[] => loadCatalogue().list(filter);
export const kpiHierarchy = (): DimensionNode[] => loadCatalogue().hierarchy();
export const getKpi = (code: string): KpiDefinition | undefined => loadCatalogue().get(code);
