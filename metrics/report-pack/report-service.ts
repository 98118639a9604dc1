import { CityError } from '../../core/errors.ts';
import type { PackManifest } from './pack-manifest.ts';
import type { DeliveryRecord, PackRecord, ReportRecords } from './report-records.ts';

export interface MonthReport {
  month: string;
  /** newest frozen roll-up version, null when the month is not closed */
  closedVersion: number | null;
  pack: (PackRecord & { manifest: PackManifest }) | null;
  deliveries: DeliveryRecord[];
}

export interface SentPack {
  manifest: PackManifest;
  deliveries: DeliveryRecord[];
}

/**
 * What the /api/reports routes use: the packs of this process (report-packs.ts), or in a cluster the
 * shared record read on an api node, with sends going to the kpi leader (cluster/reports-link.ts).
 */
export interface ReportService {
  readonly targets: ReadonlyArray<{ kind: string; destination: string }>;
  /** Deliveries, newest first. */
  list(limit?: number): Promise<DeliveryRecord[]>;
  /** A month's newest pack and its deliveries; REPORT_UNKNOWN_MONTH when it has neither a pack nor a close. */
  month(label: string): Promise<MonthReport>;
  /** Delivers the newest version of a closed month now to every target; answers once recorded. */
  send(label: string): Promise<SentPack>;
}

const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

export const isMonth = (label: string): boolean => MONTH.test(label);

export function requireMonth(label: string): string {
  if (!MONTH.test(label))
    throw new CityError('REPORT_MONTH_INVALID', `not a month (YYYY-MM): ${label.slice(0, 40)}`, {
      field: 'month',
    });
  return label;
}

/** A month's report as the record and the closed roll-ups hold it: the same on the leader and an api node. */
export async function monthReport(
  records: ReportRecords,
  latestVersion: (month: string) => number | null,
  label: string,
): Promise<MonthReport> {
  const month = requireMonth(label);
  const closedVersion = latestVersion(month);
  const latest = await records.latestPack(month);
  const deliveries = await records.deliveries({ month });
  if (closedVersion === null && latest === null && deliveries.length === 0)
    throw new CityError('REPORT_UNKNOWN_MONTH', `${month} has no report pack and is not closed`, {
      field: 'month',
    });
  const pack = latest === null ? null : await records.pack(latest.month, latest.version);
  return {
    month,
    closedVersion,
    pack: latest === null || pack === null ? null : { ...latest, manifest: pack.manifest },
    deliveries,
  };
}
