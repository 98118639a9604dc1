import type { NatsConnection } from 'nats';
import { AlertEngine } from '../alerts/alert-engine.ts';
import { PostgresAlertRecords } from '../alerts/postgres-alert-records.ts';
import type { CityCalendar } from '../core/city-calendar.ts';
import type { Clock } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import type { Logger } from '../core/logger.ts';
import type { PlatformEvents } from '../core/platform-events.ts';
import type { SeriesStore } from '../core/ports/series-store.ts';
import type { KindCatalogue } from '../devices/kind-catalogue.ts';
import type { DeviceRegistry } from '../devices/registry.ts';
import type { EventMirror } from '../ingest/cluster/event-mirror.ts';
import { buildKpis, type Kpis } from '../metrics/build-kpis.ts';
import type { KpiStore } from '../metrics/kpi-store.ts';
import { buildReportPacks } from '../metrics/report-pack/build-report-packs.ts';
import { PostgresReportRecords } from '../metrics/report-pack/postgres-report-records.ts';
import type { ReportPacks } from '../metrics/report-pack/report-packs.ts';
import { serveAlertCommands } from './alerts-link.ts';
import { AdvisoryLeadership } from './kpi-leadership.ts';
import { serveReportCommands } from './reports-link.ts';

export interface KpiRoleDeps {
  config: Config;
  store: SeriesStore;
  registry: DeviceRegistry;
  kinds: KindCatalogue;
  /** Where the leader answers the api nodes' alert commands and announces alert changes. */
  nc: Pick<NatsConnection, 'subscribe' | 'publish'>;
  subjectPrefix: string;
  /** The KPI records on PostgreSQL, shared with the standby and the api nodes; its owner closes it. */
  kpiStore: KpiStore;
  /** Device events the writers stored, for the event-based KPIs. */
  deviceEvents: EventMirror;
  /**
   * A live relay that only the leader needs (a process with no api role): subscribed when this node takes
   * the lead, unsubscribed when it steps down, so a standby reads nothing of the edges' traffic.
   */
  relay?: { start(): void; close(): Promise<void> };
  calendar: CityCalendar;
  events: PlatformEvents;
  clock: Clock;
  logger: Logger;
}

/**
 * The kpi role: the KPI engine and the month close run on the leader only (AdvisoryLeadership); a standby
 * holds nothing open but its lock connection. The engine recomputes when readings and device events
 * arrive: the process's live relay (live-relay.ts) announces those of every edge on `events` (best-effort:
 * a missed one only delays a recompute, the stored series are the truth). Closed months, manual values,
 * targets and the city profile are in PostgreSQL: a standby that takes over closes the next month on the
 * same records, and a month one leader closed is never closed again. Device events (outages) are read
 * from what the writers stored in PostgreSQL (event-mirror.ts). The leader also runs the one alert engine
 * of the cluster, on the alert records in PostgreSQL (cluster/alerts-link.ts): the next leader continues
 * the same alerts. And it builds and delivers the monthly report packs as months close or are restated,
 * on the report record in PostgreSQL (cluster/reports-link.ts): the next leader builds what was owed and
 * goes on with the deliveries left pending, with the attempts already made.
 */
export function buildKpiRole(deps: KpiRoleDeps) {
  const logger = deps.logger.child({ role: 'kpi' });
  let kpis: Kpis | null = null;
  let alerts: AlertEngine | null = null;
  let serving: { close(): void } | null = null;
  let reports: ReportPacks | null = null;
  let servingReports: { close(): void } | null = null;

  const lead = async () => {
    deps.relay?.start();
    kpis = buildKpis({
      config: deps.config,
      store: deps.store,
      devices: deps.registry,
      kpiStore: deps.kpiStore,
      ingest: deps.deviceEvents,
      calendar: deps.calendar,
      events: deps.events,
      clock: deps.clock,
      logger,
    });
    // The packs and the alerts listen before the KPI part starts, as in one process: no close goes
    // unpacked and no first value unjudged.
    await leadReports(kpis);
    const records = await PostgresAlertRecords.open({ url: deps.config.postgresUrl ?? '', logger });
    alerts = await AlertEngine.openOn(
      {
        cityName: deps.config.cityName,
        events: deps.events,
        registry: deps.registry,
        kinds: deps.kinds,
        // The backlog a store-backlog rule watches is the writers' (their /readyz): none is held here.
        ingest: { stats: () => ({}) },
        clock: deps.clock,
        logger,
      },
      records,
    );
    serving = serveAlertCommands({ nc: deps.nc, engine: alerts, subjectPrefix: deps.subjectPrefix, logger });
    await kpis.start();
  };

  /** Versions frozen while no node led (closed or restated through an api node) are caught up at start. */
  const leadReports = async (running: Kpis) => {
    const records = await PostgresReportRecords.open({
      url: deps.config.postgresUrl ?? '',
      logger,
      now: deps.clock.now(),
    });
    reports = buildReportPacks({
      config: deps.config,
      kpis: running,
      events: deps.events,
      clock: deps.clock,
      logger,
      records,
    });
    await reports.start();
    servingReports = serveReportCommands({
      nc: deps.nc,
      reports,
      subjectPrefix: deps.subjectPrefix,
      logger,
    });
  };

  const stepDown = async () => {
    // Before the KPI part closes: a pack being built reads its roll-up. Deliveries cut here stay pending.
    servingReports?.close();
    servingReports = null;
    const packs = reports;
    reports = null;
    await packs?.close();
    serving?.close();
    serving = null;
    const engine = alerts;
    alerts = null;
    await engine?.close();
    const running = kpis;
    kpis = null;
    await running?.close();
    await deps.relay?.close();
  };

  const leadership = new AdvisoryLeadership(
    { url: deps.config.postgresUrl ?? '', logger, onLead: lead, onStepDown: stepDown },
    { retryMs: deps.config.kpiLeaderRetryMs },
  );
  return {
    leadership,
    /** The running KPI part while this node leads, null on a standby. */
    kpis: () => kpis,
    /** The alert engine while this node leads, null on a standby. */
    alerts: () => alerts,
    /** The report packs while this node leads, null on a standby. */
    reports: () => reports,
    start: () => leadership.start(),
    close: () => leadership.stop(),
  };
}
