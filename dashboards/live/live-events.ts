/**
 * The live page's socket.io events, server → client: the payload types the hub emits (live-hub.ts types
 * its sockets with them) and the page's JSDoc reads (`@typedef {import('…/live-events.ts').LatestItem}`).
 * One declaration for both sides: a payload changed here breaks whichever side no longer matches.
 *
 * This file is read by the browser project's type check too, so it imports only types that need nothing of
 * Node.
 */
import type { Alert } from '../../alerts/alert-types.ts';

/** The latest value of one device and metric. */
export interface LatestItem {
  deviceId: string;
  kind: string;
  district: string;
  metric: string;
  value: number;
  /** epoch ms of the reading */
  ts: number;
  unit: string | null;
}

/** On connect: who the key is and how the city keeps time. */
export interface HelloPush {
  cityName: string;
  /** IANA zone of the city's calendar and of every clock on the page */
  timezone: string;
  keyName: string;
  role: 'viewer' | 'operator' | 'analyst' | 'admin';
  pushIntervalMs: number;
}

/** `latest` (what changed) and `snapshot` (everything, on connect and after falling behind). */
export interface LatestPush {
  items: LatestItem[];
}

export interface DeviceStatusItem {
  deviceId: string;
  kind: string | null;
  district: string | null;
  online: boolean;
  /** epoch ms */
  at: number;
}

export interface DeviceStatusPush {
  items: DeviceStatusItem[];
}

/** Refusals since the previous push, by catalogue code. */
export interface RefusedPush {
  total: number;
  byReason: Record<string, number>;
}

/** The ingest statistics, pushed every second (and served by GET /api/ingest/stats). */
export interface IngestStatsView {
  accepted: { messages: number; readings: number; values: number };
  refused: { total: number; byReason: Record<string, number> };
  rates: { acceptedPerSec: number; refusedPerSec: number };
  /** Values logged but not yet in the series store; past `ingestMaxBacklogValues` acknowledgements wait. */
  backlog: number;
}

export interface DeviceActivityItem {
  deviceId: string;
  /** readings accepted since the previous push */
  readings: number;
  refused: Record<string, number>;
}

export interface DeviceActivityPush {
  items: DeviceActivityItem[];
}

/** Alerts that changed since the previous push, the latest state of each. */
export interface AlertPush {
  items: Alert[];
}

/** The latest value of a KPI for one period kind (month-to-date, …); the KPI engine's own shapes. */
export interface KpiPush {
  code: string;
  periodKind: string;
  value: unknown;
  score: unknown;
}

/** A closed period was restated. */
export interface KpiRevisedPush {
  code: string;
  dataPoint: string | null;
  period: string;
  version: number;
  oldValue: number | null;
  newValue: number | null;
  oldStatus?: string | null;
  newStatus?: string | null;
  oldCompleteness?: number | null;
  newCompleteness?: number | null;
  cause: string;
  causes: ReadonlyArray<{ kind: string }>;
}

/** Sent just before the server disconnects a client whose key was revoked. */
export interface RevokedPush {
  code: 'API_UNAUTHENTICATED';
  message: string;
}

/** socket.io's map of server → client events. */
export interface ServerToClientEvents {
  hello: (hello: HelloPush) => void;
  snapshot: (push: LatestPush) => void;
  latest: (push: LatestPush) => void;
  'device-status': (push: DeviceStatusPush) => void;
  refused: (push: RefusedPush) => void;
  stats: (stats: IngestStatsView) => void;
  'device-activity': (push: DeviceActivityPush) => void;
  alert: (push: AlertPush) => void;
  kpi: (push: KpiPush) => void;
  'kpi-revised': (push: KpiRevisedPush) => void;
  revoked: (push: RevokedPush) => void;
}
