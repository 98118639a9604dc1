import type { KpiCatalogue } from '../../metrics/catalogue/catalogue.ts';

/**
 * The overview's KPI tiles when a city has chosen none: what the sensors feed first, in the order a duty
 * officer reads a city (air, noise, water, energy, mobility), then the rest that streams feed, then the
 * coverage ratios (share of meters, pipes and junctions that are instrumented). Catalogue order would open
 * the wall with ICT coverage figures, which change once a year.
 */
export const HEADLINE_TILES: readonly string[] = [
  'EN: EN: AQ: 1C', // Air Pollution
  'EN: EN: EQ: 2A', // Noise Exposure
  'EN: EN: WS: 1C', // Drinking Water Quality
  'EN: EN: WS: 2C', // Water Consumption
  'EC: I: WS: 3C', // Water Supply Loss
  'EN: E: E: 2C', // Electricity Consumption
  'EN: E: E: 1C', // Renewable Energy Consumption
  'EC: I: ES: 1C', // Electricity System Outage Frequency
  'EC: I: ES: 2C', // Electricity System Outage Time
  'EC: I: T: 5A', // Travel Time Index
  'EN: E: E: 4A', // Public Building Energy Consumption
  'EN: E: E: 3C', // Residential Thermal Energy Consumption
  'EN: EN: AQ: 2C', // GHG Emissions
  'EN: EN: EQ: 1C', // EMF Exposure
  'EN: EN: WA: 1C', // Solid Waste Treatment
  'SC: SH: SA: 5A', // Emergency Service Response Time
];

/** Tiles the default shows: three rows of six on a 1920 px wall. */
export const DEFAULT_TILE_COUNT = 18;

/** Most tiles a saved layout may hold: the whole catalogue. */
export const MAX_TILES = 91;

/**
 * The default layout: the headline KPIs, then every other KPI that streams or the registry feed
 * (coverage ratios), in catalogue order, cut at DEFAULT_TILE_COUNT.
 */
export function defaultTileCodes(catalogue: KpiCatalogue): string[] {
  const known = HEADLINE_TILES.filter((code) => catalogue.get(code) !== undefined);
  const rest = catalogue.kpis.filter((k) => k.obtained !== 'manual' && !known.includes(k.code));
  return [...known, ...rest.map((k) => k.code)].slice(0, DEFAULT_TILE_COUNT);
}
