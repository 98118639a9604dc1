import type { KpiIdentity } from './kpi-identity.ts';
import { type KpiStatus, percentText } from './kpi-status.ts';
import type { DataQuality, Lineage } from './kpi-types.ts';

/**
 * One row of a roll-up: one KPI, or one data point of a multi-point KPI, over one period. The same shape
 * the export writers (metrics/exports) take, declared here structurally so that the engine does not depend
 * on the writers.
 */
export interface RollupEntry extends KpiIdentity {
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

/**
 * What made a closed period change, specifically enough for an assessor to follow it up: late readings
 * (how many, from which devices), revised readings, a manual entry (which, old and new value), a city
 * profile figure (which field, old and new) or a target (old and new).
 */
export type RestatementCause =
  | { kind: 'late-data'; readings: number; devices: string[] }
  | { kind: 'revision'; readings: number; devices: string[] }
  | {
      kind: 'manual-input';
      subjectType: 'kpi' | 'input';
      subject: string;
      dataPoint: string | null;
      period: string;
      oldValue: number | null;
      newValue: number;
    }
  | {
      kind: 'city-profile';
      field: string;
      effectiveFrom: string;
      oldValue: number | string | null;
      newValue: number | string | null;
    }
  | {
      kind: 'target';
      code: string;
      dataPoint: string | null;
      oldTarget: number | null;
      newTarget: number | null;
    }
  | {
      /**
       * An entry's status or completeness changed (late readings completing a month, say), with its value
       * the same or not: what an assessment takes as final or provisional changed. On the entry's
       * restatement row, beside what caused the recompute; oldStatus null for an entry frozen before
       * entries kept a status.
       */
      kind: 'status';
      code: string;
      dataPoint: string | null;
      oldStatus: KpiStatus | null;
      newStatus: KpiStatus;
      oldCompleteness: number | null;
      newCompleteness: number | null;
    }
  | {
      /** a device's installed interval changed: the device sets of the periods it reaches changed */
      kind: 'device-life';
      device: string;
      /** ISO instants; removedAt null while installed */
      oldInstalledAt: string;
      newInstalledAt: string;
      oldRemovedAt: string | null;
      newRemovedAt: string | null;
    };

/** Devices named in a cause at most (the count is always exact). */
export const CAUSE_DEVICES_MAX = 50;

const nr = (v: number | string | null): string => (v === null ? 'none' : String(v));
const share = (v: number | null): string => (v === null ? 'none' : percentText(v));

/** One line per cause, joined with "; ": the `cause` text of a version and of its restatement rows. */
export function describeCauses(causes: readonly RestatementCause[]): string {
  return causes.map(describeCause).join('; ');
}

function describeCause(c: RestatementCause): string {
  switch (c.kind) {
    case 'late-data':
      return `late data: ${c.readings} readings arrived after close from ${c.devices.join(', ')}`;
    case 'revision':
      return `revision: ${c.readings} stored readings revised (${c.devices.join(', ')})`;
    case 'manual-input':
      return `manual ${c.subjectType === 'kpi' ? 'value' : 'input'} changed: ${c.subject}${c.dataPoint ? ` (${c.dataPoint})` : ''} for ${c.period} ${nr(c.oldValue)} → ${c.newValue}`;
    case 'city-profile':
      return `city profile changed: ${c.field} ${nr(c.oldValue)} → ${nr(c.newValue)} from ${c.effectiveFrom}`;
    case 'target':
      return `target changed: ${c.code}${c.dataPoint ? ` (${c.dataPoint})` : ''} ${nr(c.oldTarget)} → ${nr(c.newTarget)}`;
    case 'status': {
      const entry = `${c.code}${c.dataPoint ? ` (${c.dataPoint})` : ''}`;
      const completeness = `${share(c.oldCompleteness)} → ${share(c.newCompleteness)}`;
      return c.oldStatus === c.newStatus
        ? `completeness changed: ${entry} ${completeness}, still ${c.newStatus}`
        : `status changed: ${entry} ${c.oldStatus ?? 'none'} → ${c.newStatus}, completeness ${completeness}`;
    }
    case 'device-life':
      return `device ${c.device} installed interval changed: [${c.oldInstalledAt}, ${c.oldRemovedAt ?? 'open'}) → [${c.newInstalledAt}, ${c.newRemovedAt ?? 'open'})`;
  }
}

export interface RestatementRecord {
  period: string;
  version: number;
  code: string;
  dataPoint: string | null;
  oldValue: number | null;
  newValue: number | null;
  /**
   * The entry's status and completeness before and after. A row stored before rows kept them reads back
   * with both statuses null (and both completeness figures null, which then say nothing).
   */
  oldStatus: KpiStatus | null;
  newStatus: KpiStatus | null;
  oldCompleteness: number | null;
  newCompleteness: number | null;
  /** describeCauses(causes) */
  cause: string;
  causes: RestatementCause[];
  /** epoch ms */
  at: number;
}

export interface StoredRollup {
  period: string;
  version: number;
  /** epoch ms */
  closedAt: number;
  closedBy: string;
  /** why this version exists: 'closed', or describeCauses(causes) */
  cause: string;
  /** empty for the close itself (version 1) */
  causes: RestatementCause[];
  entries: RollupEntry[];
}

/** The key of an entry within a roll-up. */
export const entryKey = (e: { code: string; dataPoint: string | null }): string =>
  `${e.code}\u0000${e.dataPoint ?? ''}`;
