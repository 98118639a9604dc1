import { EventEmitter } from 'node:events';
import type { ErrorCode } from './errors.ts';
import type { Revision } from './ports/series-store.ts';
import type { NormalizedValue } from './reading-schema.ts';

export interface ReadingsAccepted {
  deviceId: string;
  kind: string;
  district: string;
  values: readonly NormalizedValue[];
}

export interface MessageRefused {
  deviceId: string | null;
  code: ErrorCode;
  at: number;
}

export interface DeviceStatusChanged {
  deviceId: string;
  online: boolean;
  at: number;
}

export interface DeviceEventAccepted {
  deviceId: string;
  kind: string;
  district: string;
  type: string;
  ts: number;
  data?: Record<string, unknown>;
}

/** Readings that replaced a stored value for the same (device, metric, ts): history for restatements. */
export interface ReadingsRevised {
  revisions: readonly Revision[];
  at: number;
}

/**
 * A KPI's current value (month to date, year to date or rolling 12 months) changed. The payloads are the
 * metrics views (metrics/kpi-engine.ts), typed loosely here: core imports nothing of ours.
 */
export interface KpiUpdated {
  code: string;
  periodKind: string;
  value: unknown;
  score: unknown;
}

/** A closed period was restated: a new roll-up version with the old and new value of one entry. */
export interface KpiRevised {
  code: string;
  dataPoint: string | null;
  period: string;
  version: number;
  oldValue: number | null;
  newValue: number | null;
  /** the entry's status (final, provisional, no-data-expected) and completeness before and after */
  oldStatus?: string | null;
  newStatus?: string | null;
  oldCompleteness?: number | null;
  newCompleteness?: number | null;
  cause: string;
  /** what changed, specifically (metrics RestatementCause: late-data, revision, manual-input, city-profile, target, device-life, status) */
  causes: ReadonlyArray<{ kind: string }>;
}

/**
 * A roll-up version was frozen: version 1 when a period closes, each later one a restatement. Emitted once
 * per saved version (kpi-revised is per entry), after it is stored.
 */
export interface RollupSaved {
  period: string;
  version: number;
  cause: 'closed' | 'restated';
  at: number;
}

interface EventMap {
  readings: [ReadingsAccepted];
  refused: [MessageRefused];
  'device-status': [DeviceStatusChanged];
  'device-event': [DeviceEventAccepted];
  'readings-revised': [ReadingsRevised];
  'kpi-updated': [KpiUpdated];
  'kpi-revised': [KpiRevised];
  'rollup-saved': [RollupSaved];
}

/** Event names and their arguments, for code that forwards events generically. */
export type PlatformEventMap = EventMap;

/**
 * In-process notifications between parts (ingest → live page, metrics). Listeners must be cheap and never
 * throw: they run on the ingest path. Slow consumers coalesce on their side.
 */
export class PlatformEvents extends EventEmitter<EventMap> {
  constructor() {
    super({ captureRejections: false });
    this.setMaxListeners(100);
  }
}
