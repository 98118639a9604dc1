import type { ReportPack } from './build-pack.ts';

export type TargetKind = 'folder' | 'webhook';
/** Why a pack or a delivery exists: a close, a restatement, a send on demand, or the start-up catch-up. */
export type DeliveryTrigger = 'closed' | 'restated' | 'manual' | 'catch-up';
export type DeliveryState = 'pending' | 'delivered' | 'failed';

export interface DeliveryRecord {
  id: number;
  month: string;
  version: number;
  target: TargetKind;
  /** the folder, or the webhook's origin and path (never its query, which may hold a token) */
  destination: string;
  trigger: DeliveryTrigger;
  state: DeliveryState;
  attempts: number;
  lastError: string | null;
  lastErrorCode: string | null;
  /** epoch ms */
  createdAt: number;
  lastAttemptAt: number | null;
  deliveredAt: number | null;
  /** file name → SHA-256, as delivered (the manifest's included) */
  fileHashes: Record<string, string>;
}

export interface PackRecord {
  month: string;
  version: number;
  status: 'final' | 'provisional';
  builtAt: number;
}

export interface OwedPack {
  month: string;
  version: number;
  trigger: DeliveryTrigger;
}

export type DeliveryTargetRef = { target: TargetKind; destination: string };

/** Longest error text kept per delivery: a receiver's error page must not fill the record. */
export const ERROR_MAX_CHARS = 500;

/**
 * The durable record of report packs and their deliveries: `<dataDir>/reports.db` in one process
 * (sqlite-report-records.ts), PostgreSQL in a cluster (postgres-report-records.ts), so that the kpi node
 * that takes over builds what was owed and goes on with the deliveries left pending, with the attempts
 * already made, and every api node lists them. A pack is stored once per month and version; a delivery
 * leaves `pending` once. Both pass the contract suite in test/contracts/report-records.contract.ts.
 */
export interface ReportRecords {
  /** Where the records are, for messages: a file path or `postgres:<database>`. */
  readonly location: string;
  /** When this record began (epoch ms): the catch-up owes packs only for versions frozen since. */
  createdAt(): Promise<number>;
  /** A pack to build; nothing when it is owed or built already. */
  owe(month: string, version: number, trigger: DeliveryTrigger, at: number): Promise<void>;
  /** By month, then version. */
  owed(): Promise<OwedPack[]>;
  /** A pack owed but no longer buildable (its version is gone), or built meanwhile. */
  dropOwed(month: string, version: number): Promise<void>;
  hasPack(month: string, version: number): Promise<boolean>;
  /**
   * Stores a built pack and its pending deliveries in one transaction, and settles what was owed for it: a
   * crash leaves either the owed row (built again) or the pack with its deliveries. Null, storing nothing,
   * when that month and version has a pack already (another node built it first).
   */
  savePack(
    pack: ReportPack,
    targets: readonly DeliveryTargetRef[],
    trigger: DeliveryTrigger,
    at: number,
  ): Promise<DeliveryRecord[] | null>;
  /** New pending deliveries of a stored pack. */
  addDeliveries(
    pack: Pick<ReportPack, 'month' | 'version' | 'files'>,
    targets: readonly DeliveryTargetRef[],
    trigger: DeliveryTrigger,
    at: number,
  ): Promise<DeliveryRecord[]>;
  /** A stored pack with its files' bytes, or null. */
  pack(month: string, version: number): Promise<ReportPack | null>;
  /** The newest pack of a month, without its files. */
  latestPack(month: string): Promise<PackRecord | null>;
  delivery(id: number): Promise<DeliveryRecord | null>;
  /** Pending deliveries, oldest first. */
  pending(): Promise<DeliveryRecord[]>;
  /** Deliveries newest first: of one month, or of all, at most `limit` (default 200). */
  deliveries(options?: { month?: string; limit?: number }): Promise<DeliveryRecord[]>;
  /**
   * One failed attempt of a pending delivery: counted, with its error (cut to ERROR_MAX_CHARS), staying
   * pending, or failed when `final`. Nothing for a delivery no longer pending.
   */
  recordFailure(
    id: number,
    at: number,
    error: { code: string; message: string },
    final: boolean,
  ): Promise<void>;
  /** The attempt that delivered. False, changing nothing, when the delivery was no longer pending. */
  recordDelivered(id: number, at: number): Promise<boolean>;
  /** A pending delivery that cannot go on (its target is gone, or its attempts are spent). */
  markFailed(id: number, at: number, error: { code: string; message: string }): Promise<void>;
  close(): Promise<void>;
}
