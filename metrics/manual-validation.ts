import type { ErrorCode } from '../core/errors.ts';
import type { KpiCatalogue, KpiDefinition } from './catalogue/catalogue.ts';
import { formulaFor } from './formulas/index.ts';
import type { ManualValueInput } from './kpi-store.ts';
import { DATA_QUALITY_CLASSES, type DataQuality } from './kpi-types.ts';
import { parsePeriodLabel } from './periods.ts';

/**
 * Inputs the formulas read with `ctx.manualInput(name)`: figures that are not KPIs themselves but complete
 * a sensor or registry figure (the length of the major street network...). Each with its unit and the KPI
 * codes it feeds (what to recompute when it changes).
 */
export const FORMULA_INPUTS: Readonly<
  Record<string, { unit: string; description: string; codes: string[] }>
> = Object.freeze({
  majorStreetKm: { unit: 'km', description: 'length of the major street network', codes: ['EC: ICT: T: 2C'] },
  transitStopsTotal: {
    unit: 'stops',
    description: 'all public-transport stops and stations',
    codes: ['EC: ICT: T: 1C'],
  },
  intersectionsTotal: {
    unit: 'intersections',
    description: 'all signal-controlled intersections',
    codes: ['EC: ICT: T: 3A'],
  },
  electricityMetersTotal: {
    unit: 'meters',
    description: 'all electricity meters, smart or not',
    // consumption scales the smart meters up to all of them when no feeder is metered
    codes: ['EC: ICT: ES: 1C', 'EN: E: E: 2C', 'EN: E: E: 1C', 'EN: EN: AQ: 2C'],
  },
  electricityFeedersTotal: {
    unit: 'feeders',
    description: 'all distribution feeders',
    // consumption scales the metered feeders up to all of them
    codes: ['EC: ICT: ES: 2A', 'EN: E: E: 2C', 'EN: E: E: 1C', 'EN: EN: AQ: 2C'],
  },
  waterMetersTotal: {
    unit: 'meters',
    description: 'all water meters, smart or not',
    codes: ['EC: ICT: WS: 1C', 'EN: EN: WS: 2C', 'EC: I: WS: 3C'],
  },
  waterSupplyZonesTotal: {
    unit: 'zones',
    description: 'all water supply zones (DMAs)',
    codes: ['EC: ICT: WS: 2A'],
  },
  drainageNetworkKm: {
    unit: 'km',
    description: 'length of the drainage / storm-water network (sewers and storm drains)',
    codes: ['EC: ICT: D: 1A'],
  },
  emissionFactorElectricity: {
    unit: 'kg CO2e/kWh',
    description: 'grid electricity emission factor (location-based), with its source',
    codes: ['EN: EN: AQ: 2C'],
  },
  emissionFactorHeat: {
    unit: 'kg CO2e/kWh',
    description: 'emission factor of the district heat delivered, with its source',
    codes: ['EN: EN: AQ: 2C'],
  },
  districtHeatResidents: {
    unit: 'inhabitants',
    description: 'residents of all the homes supplied with district heat, metered or not',
    codes: ['EN: E: E: 3C'],
  },
  publicBuildingFloorAreaM2: {
    unit: 'm²',
    description: 'floor area of all public buildings',
    codes: ['EC: I: B: 2A'],
  },
});

/** One problem with one entry; `row` is the sheet row (or the index in a request), `column` the field. */
export interface EntryProblem {
  row: number;
  column: string;
  code: ErrorCode;
  message: string;
}

/** What an analyst (API, CLI or sheet row) gives for one value. */
export interface ManualEntryRequest {
  code: string;
  dataPoint?: string | null;
  period: string;
  value: number;
  unit: string;
  dataQuality: string;
  source: string;
  evidence?: string | null;
  override?: boolean;
}

const UNIT_ALIASES: Readonly<Record<string, string>> = {
  'ug/m3': 'µg/m³',
  'μg/m³': 'µg/m³',
  percent: '%',
  m2: 'm²',
  'e-kwh/m2/yr': 'e-kWh per m² per year',
};

const normUnit = (u: string): string => {
  const t = u.trim().replace(/\s+/g, ' ');
  return (UNIT_ALIASES[t.toLowerCase()] ?? t).toLowerCase();
};

/** Units a KPI (or one of its data points) accepts: its catalogue unit, or each part of "% and number". */
export function acceptedUnits(def: KpiDefinition, dataPoint: string | null): string[] {
  if (def.unit === '% and number') {
    if (dataPoint !== null && /number/i.test(dataPoint)) return ['number'];
    if (dataPoint !== null && /percent/i.test(dataPoint)) return ['%'];
    return ['%', 'number'];
  }
  return [def.unit];
}

/** The plausible range of a value in a unit: shares 0–100 %, yes/no 0 or 1, a coefficient 0–1, else ≥ 0. */
export function unitRange(unit: string): { min: number; max: number; integer?: boolean } {
  if (unit === '%' || unit === '% of city GDP') return { min: 0, max: 100 };
  if (unit === 'yes/no') return { min: 0, max: 1, integer: true };
  if (unit === 'coefficient') return { min: 0, max: 1 };
  return { min: 0, max: Number.MAX_VALUE };
}

/**
 * Checks one entry and turns it into a store record; every problem of the entry is reported (not only
 * the first), each naming its row and column.
 */
export function validateEntry(
  catalogue: KpiCatalogue,
  req: ManualEntryRequest,
  row: number,
  who: { enteredBy: string; enteredAt: number },
): { ok: true; value: ManualValueInput } | { ok: false; problems: EntryProblem[] } {
  const problems: EntryProblem[] = [];
  const fail = (column: string, code: ErrorCode, message: string) =>
    problems.push({ row, column, code, message });
  const input = FORMULA_INPUTS[req.code.trim()];
  const def = input === undefined ? catalogue.parseCodeParam(req.code) : null;
  if (input === undefined && def === null)
    fail('code', 'METRICS_UNKNOWN_KPI', `no KPI or formula input "${req.code}"`);

  const period = parsePeriodLabel(req.period);
  if (period === null || !['month', 'quarter', 'year'].includes(period.kind))
    fail('period', 'METRICS_PERIOD_INVALID', `period must be YYYY-MM, YYYY-Qn or YYYY, not "${req.period}"`);

  let dataPoint: string | null = req.dataPoint?.trim() ? req.dataPoint.trim() : null;
  if (def !== null) {
    if (def.dataPoints.length > 1) {
      if (dataPoint === null)
        fail(
          'dataPoint',
          'API_VALIDATION',
          `${def.code} has data points (${def.dataPoints.join(', ')}): name one`,
        );
      else if (!def.dataPoints.includes(dataPoint))
        fail(
          'dataPoint',
          'API_VALIDATION',
          `${def.code} has no data point "${dataPoint}" (${def.dataPoints.join(', ')})`,
        );
    } else if (dataPoint !== null && dataPoint !== def.dataPoints[0]) {
      fail('dataPoint', 'API_VALIDATION', `${def.code} has a single data point "${def.dataPoints[0]}"`);
    } else dataPoint = null;
  }

  let unit = req.unit.trim();
  const expected = input !== undefined ? [input.unit] : def !== null ? acceptedUnits(def, dataPoint) : [];
  const match = expected.find((u) => normUnit(u) === normUnit(unit));
  if (expected.length > 0 && match === undefined)
    fail(
      'unit',
      'METRICS_UNIT_MISMATCH',
      `unit "${req.unit}" is not the unit of ${req.code} (${expected.join(' or ')})`,
    );
  else if (match !== undefined) unit = match;

  if (!Number.isFinite(req.value))
    fail('value', 'METRICS_VALUE_OUT_OF_RANGE', 'value must be a finite number');
  else if (match !== undefined) {
    const range = input !== undefined ? { min: 0, max: Number.MAX_VALUE } : unitRange(match);
    if (req.value < range.min || req.value > range.max || (range.integer && !Number.isInteger(req.value)))
      fail(
        'value',
        'METRICS_VALUE_OUT_OF_RANGE',
        `${req.value} is outside ${range.min}–${range.max === Number.MAX_VALUE ? '∞' : range.max} ${match}`,
      );
  }
  if (!(DATA_QUALITY_CLASSES as readonly string[]).includes(req.dataQuality))
    fail('dataQuality', 'API_VALIDATION', `dataQuality must be one of ${DATA_QUALITY_CLASSES.join(', ')}`);
  if (req.source.trim() === '')
    fail('source', 'API_VALIDATION', 'source is required (who published the figure)');

  // U4SSC values are not replaced silently: a computed KPI takes a manual value only as an explicit override
  let override = false;
  if (def !== null && formulaFor(def.code) !== undefined) {
    if (req.override !== true)
      fail(
        'override',
        'METRICS_OVERRIDE_REQUIRED',
        `${def.code} is computed from sensors and registry data: set override to replace its value`,
      );
    override = true;
  }
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    value: {
      subjectType: input !== undefined ? 'input' : 'kpi',
      subject: input !== undefined ? req.code.trim() : def!.code,
      dataPoint,
      period: req.period.trim().toUpperCase(),
      value: req.value,
      unit,
      dataQuality: req.dataQuality as DataQuality,
      source: req.source.trim(),
      evidence: req.evidence?.trim() ? req.evidence.trim() : null,
      override,
      enteredBy: who.enteredBy,
      enteredAt: who.enteredAt,
    },
  };
}
