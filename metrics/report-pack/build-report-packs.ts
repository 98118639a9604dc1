import type { Clock } from '../../core/clock.ts';
import type { Config } from '../../core/config.ts';
import type { Logger } from '../../core/logger.ts';
import type { PlatformEvents } from '../../core/platform-events.ts';
import type { KpiService } from '../kpi-service.ts';
import type { KpiStore } from '../kpi-store.ts';
import type { DeliveryTarget } from './delivery-target.ts';
import { FolderTarget } from './folder-target.ts';
import { type PackSource, ReportPacks } from './report-packs.ts';
import type { ReportRecords } from './report-records.ts';
import type { RetrySettings } from './retry-delivery.ts';
import { SqliteReportRecords } from './sqlite-report-records.ts';
import { WebhookTarget } from './webhook-target.ts';

/** The packs are made from the same data path as the API's exports (KpiService.exportInput). */
export function packSourceOf(kpis: { service: KpiService; kpiStore: KpiStore }): PackSource {
  return {
    exportInput: (month, version) => kpis.service.exportInput(month, version),
    latestVersion: (month) => kpis.kpiStore.latestRollup(month)?.version ?? null,
    closedMonths: () =>
      kpis.kpiStore
        .closedPeriods()
        .map((p) => kpis.kpiStore.latestRollup(p))
        .filter((r) => r !== null)
        .map((r) => ({ month: r.period, version: r.version, frozenAt: r.closedAt })),
    onExternalChange: (listener) => kpis.kpiStore.onExternalChange(listener),
  };
}

export function reportTargetsOf(config: Config, clock: Clock): DeliveryTarget[] {
  const targets: DeliveryTarget[] = [];
  if (config.reportDir !== undefined) targets.push(new FolderTarget(config.reportDir));
  // loadConfig refuses a URL without its secret
  if (config.reportWebhookUrl !== undefined && config.reportWebhookSecret !== undefined)
    targets.push(
      new WebhookTarget({
        url: config.reportWebhookUrl,
        secret: config.reportWebhookSecret,
        timeoutMs: config.reportWebhookTimeoutMs,
        clock,
      }),
    );
  return targets;
}

export const retrySettingsOf = (config: Config): RetrySettings => ({
  retries: config.reportRetryMax,
  minDelayMs: config.reportRetryMinDelayMs,
  maxDelayMs: config.reportRetryMaxDelayMs,
});

/**
 * Wires the targets of the configuration on a record: `records` (PostgreSQL, in a cluster), or
 * `<dataDir>/reports.db` opened here. Opens no port; start() to run; close() closes the record.
 */
export function buildReportPacks(deps: {
  config: Config;
  kpis: { service: KpiService; kpiStore: KpiStore };
  events: PlatformEvents;
  clock: Clock;
  logger: Logger;
  records?: ReportRecords;
}): ReportPacks {
  const { config, clock } = deps;
  const store = deps.records ?? SqliteReportRecords.open({ dataDir: config.dataDir, now: clock.now() });
  return new ReportPacks(
    {
      source: packSourceOf(deps.kpis),
      store,
      targets: reportTargetsOf(config, clock),
      events: deps.events,
      clock,
      logger: deps.logger,
    },
    retrySettingsOf(config),
  );
}
