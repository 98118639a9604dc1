import { z } from 'zod';
import type { CityCalendar } from '../core/city-calendar.ts';
import type { DeviceKind } from '../core/device-kind.ts';
import type { ClockWindow } from '../core/peak-windows.ts';
import type { DeviceRecord } from '../core/ports/device-directory.ts';
import type { SeriesStore } from '../core/ports/series-store.ts';
import type { KpiStatus, StatusReason } from './kpi-status.ts';

/**
 * The shapes every KPI formula, the KPI engine, the KPI store and the exports share.
 * One formula per file in metrics/formulas/, each a `KpiFormula`.
 */

/** U4SSC data-quality classes (KPIs Verification Manual), best first. */
export const DATA_QUALITY_CLASSES = [
  'accurate-measurement',
  'extrapolated-survey',
  'extrapolated-higher-level',
  'estimation-with-assumptions',
  'personal-estimation',
  'unknown',
] as const;
export type DataQuality = (typeof DATA_QUALITY_CLASSES)[number];

export type PeriodKind =
  | 'month'
  | 'quarter'
  | 'year'
  | 'month-to-date'
  | 'year-to-date'
  | 'rolling-12-months';

/** A calendar period in the city's zone: [start, end) in epoch ms, and its label (`2026-03`, `2026`, `2026-Q1`). */
export interface Period {
  kind: PeriodKind;
  label: string;
  start: number;
  end: number;
}

/*
 * A value's lineage is stored with every frozen roll-up entry (JSON in the KPI records): its shape is a
 * schema, the type inferred from it, so that what is read back is checked against what was written.
 */
export const seriesUseSchema = z.object({
  scope: z.enum(['device', 'district', 'city']),
  key: z.string(),
  metric: z.string(),
  readings: z.number(),
  expected: z.number(),
  firstTs: z.number().nullable(),
  lastTs: z.number().nullable(),
});
export type SeriesUse = z.infer<typeof seriesUseSchema>;

export const sampleEstimateSchema = z.object({
  /** what was scaled up, e.g. `delivered volume` */
  quantity: z.string(),
  /** meters that reported in the period */
  sampled: z.number(),
  /** all meters of the city (the manual input) */
  total: z.number(),
  factor: z.number(),
  totalFrom: z.string(),
});
export type SampleEstimate = z.infer<typeof sampleEstimateSchema>;

export const lineageSchema = z.object({
  formulaVersion: z.string(),
  formula: z.string(),
  devices: z.array(z.string()),
  series: z.array(seriesUseSchema),
  readings: z.number(),
  timeRange: z.object({ from: z.string(), to: z.string() }).nullable(),
  manualInputs: z.array(
    z.object({
      name: z.string(),
      value: z.number(),
      unit: z.string(),
      source: z.string(),
      effectiveFrom: z.string().optional(),
    }),
  ),
  registryCounts: z.record(z.string(), z.number()).optional(),
  notes: z.array(z.string()).optional(),
  /**
   * Quantities measured on a sample of meters and scaled up to all of them (the value is then an estimate,
   * its class at best estimation-with-assumptions): `factor` = `total` ÷ `sampled`, `total` being the
   * manual input named `totalFrom`.
   */
  estimates: z.array(sampleEstimateSchema).optional(),
});
export type Lineage = z.infer<typeof lineageSchema>;

export interface DataPointValue {
  name: string;
  value: number | null;
  unit: string;
  /**
   * Where a KPI's data points are measured apart (Air Pollution: one per pollutant, by the stations that
   * measure it): received ÷ expected readings of this data point's series, 0..1; null when none was owed.
   */
  completeness?: number | null;
  /**
   * Of a multi-point KPI: this data point's own verdict under the one rule (kpi-status.ts), from its own
   * value and completeness. A data point not reported is never final, whatever the headline's status.
   */
  status?: KpiStatus;
  statusReason?: StatusReason;
}

export interface KpiValue {
  code: string;
  period: Period;
  /** null = not reported ("NR"): no input for the period */
  value: number | null;
  unit: string;
  /** Air Pollution has five data points (PM2.5, PM10, NO2, SO2, O3); others have one or none. */
  dataPoints: DataPointValue[];
  dataQuality: DataQuality;
  /**
   * received / expected readings over the inputs, 0..1; 1 for registry- or manual-only values; null when
   * no reading was expected (no device for the period)
   */
  completeness: number | null;
  /** final, provisional or no data expected (kpi-status.ts: the one rule) */
  status: KpiStatus;
  /** which branch of the rule decided the status (absent on values stored before it was recorded) */
  statusReason?: StatusReason;
  /** status is not final */
  provisional: boolean;
  source: 'sensor' | 'registry' | 'manual' | 'mixed' | 'override';
  lineage: Lineage;
  computedAt: number;
}

/** A device event as formulas read it; `data` is the event's small free-form detail (an incident id). */
export interface FormulaEvent {
  deviceId: string;
  type: string;
  ts: number;
  data?: Readonly<Record<string, string | number | boolean | null>> | null;
}

/** What a formula may read. Everything is read-only. */
export interface FormulaContext {
  store: SeriesStore;
  calendar: CityCalendar;
  devices(filter?: { kind?: string; district?: string }): DeviceRecord[];
  /** Device events (outage_start, restore...) in [from, to). */
  events(query: { deviceIds?: string[]; types?: string[]; from: number; to: number }): FormulaEvent[];
  /** A city profile figure effective at a time (population, households, areaKm2...), or null if not entered. */
  profile(
    name: 'population' | 'households' | 'areaKm2' | 'gdp',
    at: number,
  ): { value: number; effectiveFrom: string; dataQuality?: DataQuality } | null;
  /**
   * A manually entered input for the period (e.g. total major street km), or null. `dataQuality` is the
   * class the analyst gave it (formulas treat a missing class as 'unknown').
   */
  manualInput(
    name: string,
    period: Period,
  ): { value: number; unit: string; source: string; dataQuality?: DataQuality } | null;
  /**
   * The device kind (for its reporting interval: completeness). Optional: formulas fall back to the kinds
   * shipped in devices/kinds.ts.
   */
  kind?(kindId: string): DeviceKind | undefined;
  /** Now (epoch ms): expected readings of a running period stop here. Omitted: the period end. */
  now?: number;
  /** Thresholds and settings of the formulas (noise threshold dB(A), EMF limit V/m...). */
  settings: KpiSettings;
}

export interface KpiSettings {
  /** completeness below this makes a value provisional (EU air-quality practice: 0.9) */
  captureThreshold: number;
  /** days after a month ends before it closes and its values can be final (KPI_CLOSE_GRACE_DAYS) */
  closeGraceDays: number;
  /** LAeq above which residents count as exposed (U4SSC Noise Exposure; default 55 dB(A), WHO/END Lden) */
  noiseThresholdDb: number;
  /** EMF reference level (ICNIRP 1998 general public, ~28 V/m at 10–400 MHz; default 28 V/m) */
  emfLimitVm: number;
  /**
   * Wireless Broadband Coverage: the mean signal a probe location needs for a layer to count as covering it
   * (4G LTE RSRP, 3G UMTS RSCP; dBm; defaults -110 and -100, the usual outdoor service edges)
   */
  broadband: { rsrpMinDbm: number; rscpMinDbm: number };
  /** Travel Time Index peak periods: local clock windows on weekdays (TTI_PEAK_WINDOWS) */
  ttiPeakWindows: readonly ClockWindow[];
  /** Drinking water compliance: free chlorine range mg/L, turbidity max NTU, pH range */
  water: { chlorineMin: number; chlorineMax: number; turbidityMax: number; phMin: number; phMax: number };
}

export const DEFAULT_KPI_SETTINGS: KpiSettings = {
  captureThreshold: 0.9,
  closeGraceDays: 5,
  noiseThresholdDb: 55,
  emfLimitVm: 28,
  broadband: { rsrpMinDbm: -110, rscpMinDbm: -100 },
  ttiPeakWindows: [
    { startMin: 7 * 60, endMin: 9 * 60 },
    { startMin: 16 * 60 + 30, endMin: 18 * 60 + 30 },
  ],
  water: { chlorineMin: 0.2, chlorineMax: 5, turbidityMax: 4, phMin: 6.5, phMax: 9.5 },
};

export interface KpiFormula {
  /** official code, e.g. `EN: EN: AQ: 1C` */
  code: string;
  /** bumped whenever the formula changes: closed roll-ups record which version made them */
  version: string;
  /** what it computes, in words (shown in lineage) */
  description: string;
  /** device kinds whose readings or events feed it (a reading of these kinds makes it recompute) */
  inputKinds: string[];
  compute(
    ctx: FormulaContext,
    period: Period,
  ): Promise<
    Omit<KpiValue, 'computedAt' | 'provisional' | 'status' | 'statusReason' | 'completeness'> & {
      /** null: nothing was owed of what decides the value (no station measures the headline pollutant) */
      completeness: number | null;
      provisional?: boolean;
    }
  >;
}
