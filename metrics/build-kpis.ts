import type { CityCalendar } from '../core/city-calendar.ts';
import type { Clock } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import type { Logger } from '../core/logger.ts';
import { parsePeakWindows } from '../core/peak-windows.ts';
import type { PlatformEvents } from '../core/platform-events.ts';
import type { SeriesStore } from '../core/ports/series-store.ts';
import { type KpiCatalogue, loadCatalogue } from './catalogue/catalogue.ts';
import { CityProfile } from './city-profile.ts';
import type { DeviceSource, EventSource } from './kpi-context.ts';
import { KpiEngine } from './kpi-engine.ts';
import { KpiService } from './kpi-service.ts';
import { KpiStore } from './kpi-store.ts';
import { DEFAULT_KPI_SETTINGS, type KpiSettings } from './kpi-types.ts';
import { ManualInputs } from './manual-inputs.ts';
import { MonthClose } from './month-close.ts';
import { Rollups } from './rollups.ts';
import { KpiTargets } from './targets.ts';

export interface KpisDeps {
  config: Config;
  store: SeriesStore;
  devices: DeviceSource;
  /** Device events; `onChange`, where given, says new ones arrived (a cluster's mirror of what writers stored). */
  ingest: EventSource & { drain?: () => Promise<void>; onChange?: (listener: () => void) => () => void };
  calendar: CityCalendar;
  events: PlatformEvents;
  clock: Clock;
  logger: Logger;
  catalogue?: KpiCatalogue;
  /**
   * The KPI records to use (PostgreSQL, shared by the nodes of a cluster); its owner closes it. Without
   * one, `<dataDir>/kpi.db` is opened and closed with the rest.
   */
  kpiStore?: KpiStore;
}

export interface KpisOptions {
  /** Month-close scheduler period (ms). Default one minute. */
  closeCheckIntervalMs?: number;
  /**
   * Whether this process closes months when they are due (default true). A cluster's api nodes do not:
   * the kpi leader does; they still restate a closed month that a value entered through them changes.
   */
  scheduleCloses?: boolean;
}

export interface Kpis {
  service: KpiService;
  engine: KpiEngine;
  monthClose: MonthClose;
  kpiStore: KpiStore;
  /** Starts listening to ingest, computes the running values once, starts the month-close scheduler. */
  start(): Promise<void>;
  /** Resolves once the restatements of device interval changes so far are done. */
  lifeChangesSettled(): Promise<void>;
  /** Stops the scheduler and the engine, then closes kpi.db. */
  close(): Promise<void>;
}

/** Settings of the formulas from the configuration. */
export function kpiSettingsOf(config: Config): KpiSettings {
  return {
    ...DEFAULT_KPI_SETTINGS,
    captureThreshold: config.kpiCaptureThreshold,
    closeGraceDays: config.kpiCloseGraceDays,
    noiseThresholdDb: config.kpiNoiseThresholdDb,
    emfLimitVm: config.kpiEmfLimitVm,
    broadband: { rsrpMinDbm: config.kpiBroadbandLteMinDbm, rscpMinDbm: config.kpiBroadbandUmtsMinDbm },
    // loadConfig refused a list that does not parse.
    ttiPeakWindows: parsePeakWindows(config.ttiPeakWindows) ?? DEFAULT_KPI_SETTINGS.ttiPeakWindows,
  };
}

/** Builds the KPI part: opens `<dataDir>/kpi.db`, wires engine, roll-ups, month close and the service. */
export function buildKpis(deps: KpisDeps, options: KpisOptions = {}): Kpis {
  const { config, calendar, clock, events } = deps;
  const logger = deps.logger.child({ component: 'kpis' });
  const catalogue = deps.catalogue ?? loadCatalogue();
  const ownsStore = deps.kpiStore === undefined;
  const kpiStore = deps.kpiStore ?? KpiStore.open({ dataDir: config.dataDir, logger });
  const profile = new CityProfile({
    kpiStore,
    calendar,
    clock,
    defaults: { name: config.cityName, timeZone: config.cityTimezone },
  });
  const targets = new KpiTargets({ kpiStore, catalogue, clock });
  const manual = new ManualInputs({ kpiStore, calendar });
  const engine = new KpiEngine(
    {
      store: deps.store,
      calendar,
      devices: deps.devices,
      ingest: deps.ingest,
      profile,
      manual,
      settings: kpiSettingsOf(config),
      kpiStore,
      catalogue,
      targets,
      clock,
      logger,
      events,
      ...(deps.ingest.drain ? { drain: () => deps.ingest.drain!() } : {}),
    },
    { debounceMs: config.kpiRecomputeDebounceMs, minIntervalMs: config.kpiRecomputeMinIntervalMs },
  );
  const rollups = new Rollups({ engine, kpiStore, catalogue, targets, calendar, clock });
  const monthClose = new MonthClose(
    { rollups, kpiStore, devices: deps.devices, calendar, clock, events, logger },
    {
      graceDays: config.kpiCloseGraceDays,
      ...(options.closeCheckIntervalMs ? { checkIntervalMs: options.closeCheckIntervalMs } : {}),
    },
  );
  engine.setRestater((period, codes, causes) => monthClose.restate(period, codes, causes));
  const service = new KpiService({
    engine,
    rollups,
    monthClose,
    kpiStore,
    catalogue,
    profile,
    targets,
    manual,
    calendar,
    clock,
    logger,
  });
  let lifeChanges: Promise<void> = Promise.resolve();
  let unwatchLife: (() => void) | undefined;
  let unwatchRecords: (() => void) | undefined;
  let unwatchEvents: (() => void) | undefined;
  let closed: Promise<void> | null = null;
  return {
    service,
    engine,
    monthClose,
    kpiStore,
    async start() {
      engine.start();
      // One change after another, so that the restatements of two quick changes come in their order.
      unwatchLife = deps.devices.onLifeChanged?.((change) => {
        lifeChanges = lifeChanges
          .then(() => service.deviceLifeChanged(change))
          .catch((err: unknown) =>
            logger.error(
              { err, deviceId: change.deviceId },
              'restatement after a device interval change failed',
            ),
          );
      });
      // Another node entered a value, set a target or closed a month: recompute with what it wrote.
      const everything = () => engine.invalidate(catalogue.kpis.map((d) => d.code));
      unwatchRecords = kpiStore.onExternalChange(everything);
      unwatchEvents = deps.ingest.onChange?.(everything);
      await engine.computeAll();
      if (options.scheduleCloses === false) return;
      monthClose.start();
      void monthClose.tick().catch((err: unknown) => logger.error({ err }, 'month close failed'));
    },
    lifeChangesSettled: () => lifeChanges,
    close() {
      closed ??= (async () => {
        unwatchLife?.();
        unwatchRecords?.();
        unwatchEvents?.();
        await lifeChanges;
        await monthClose.stop();
        await engine.stop();
        if (ownsStore) await kpiStore.close();
      })();
      return closed;
    },
  };
}
