import type { KpiStatus } from './kpi-status.ts';
import type { DataQuality, Lineage } from './kpi-types.ts';

/**
 * One row of a roll-up: one KPI, or one data point of a multi-point KPI, over one period. The same shape
 * the export writers (metrics/exports) take, declared here structurally so that the engine does not depend
 * on the writers.
 */
export interface RollupEntry {
  code: string;
  compactCode: string;
  name: string;
  dimension: string;
  subDimension: string;
  category: string;
  /** null for a single-point KPI; the data point name for each row of a multi-point KPI */
  dataPoint: string | null;
  /** null = not reported ("NR") */
  value: number | null;
  unit: string;
  period: string;
  dataQuality: DataQuality | null;
  /** null when unknown or when no reading was expected */
  completeness: number | null;
  /** final, provisional or no data expected (kpi-status.ts) */
  status: KpiStatus;
  /** status is not final */
  provisional: boolean;
  source: 'sensor' | 'registry' | 'manual' | 'mixed' | 'override' | null;
  band: string | null;
  points: number | null;
  target: number | null;
  /** roll-up version in which this entry got its value (0 while the period is open) */
  version: number;
  lineage: Lineage | null;
}

export interface RestatementRecord {
  period: string;
  version: number;
  code: string;
  dataPoint: string | null;
  oldValue: number | null;
  newValue: number | null;
  cause: string;
  /** epoch ms */
  at: number;
}

export interface StoredRollup {
  period: string;
  version: number;
  /** epoch ms */
  closedAt: number;
  closedBy: string;
  /** why this version exists: 'closed', 'late data: …', 'manual value entered', 'revision' */
  cause: string;
  entries: RollupEntry[];
}

/** The key of an entry within a roll-up. */
export const entryKey = (e: { code: string; dataPoint: string | null }): string =>
  `${e.code}\u0000${e.dataPoint ?? ''}`;
