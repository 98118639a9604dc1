import type { AlertService } from '../../alerts/alert-service.ts';
import type { Clock } from '../../core/clock.ts';
import type { Config } from '../../core/config.ts';
import type { Logger } from '../../core/logger.ts';
import type { PlatformEvents } from '../../core/platform-events.ts';
import type { IngestSink } from '../../core/ports/ingest-sink.ts';
import type { SeriesStore } from '../../core/ports/series-store.ts';
import type { Telemetry } from '../../core/telemetry.ts';
import type { KindCatalogue } from '../../devices/kind-catalogue.ts';
import type { DeviceRegistry } from '../../devices/registry.ts';
import type { DeviceCounts } from '../../ingest/device-counters.ts';
import type { KpiService } from '../../metrics/kpi-service.ts';
import type { ReportService } from '../../metrics/report-pack/report-service.ts';
import type { IngestStatsView } from '../live/live-events.ts';
import type { ApiKeyStore } from './api-key-store.ts';

/**
 * What the dashboards read of the ingest statistics. Structural on purpose: the HTTP layer forwards the whole
 * object as JSON and only the live page looks at these fields, so ingest may add fields freely.
 */
/** Declared with the live page's events: the `stats` push carries it as it is. */
export type { IngestStatsView };

export interface IngestStatsSource {
  stats(): IngestStatsView;
  /** Per registered device: what it sent and what became of it. */
  readonly devices: { get(id: string): DeviceCounts | null; all(): DeviceCounts[] };
}

/** What the device ingest routes share with the MQTT gateway, so that both paths apply one set of rules. */
export interface DeviceIngest {
  /** The gateway's sink: the same admission, durable log and refusal counts. */
  sink: IngestSink;
  /** The gateway's per-device limiter: a device that also speaks HTTP does not get a second rate. */
  rate: { take(deviceId: string): boolean };
}

export interface Readiness {
  ready: boolean;
  checks: Record<string, boolean>;
}

/** The MQTT ports this process listens on (an ephemeral 0 resolved), null before it listens. */
export type MqttListening = () => { tcpPort: number; tlsPort: number | null; wsPort: number | null } | null;

export interface HttpDeps {
  config: Config;
  registry: DeviceRegistry;
  kinds: KindCatalogue;
  store: SeriesStore;
  ingest: IngestStatsSource;
  telemetry: Telemetry;
  events: PlatformEvents;
  apiKeys: ApiKeyStore;
  logger: Logger;
  clock: Clock;
  readiness: () => Readiness;
  /** `POST /api/devices/{id}/telemetry` and `/events`, for devices that speak only HTTP. */
  deviceIngest: DeviceIngest;
  /** The alert rules engine; without it the alert routes and the live `alert` push are absent. */
  alerts?: AlertService;
  /** KPI engine, manual values, profile, targets, roll-ups (metrics/kpi-service.ts); routes only when given. */
  kpis?: KpiService;
  /** Monthly report packs (metrics/report-pack); the /api/reports routes only when given. */
  reports?: ReportService;
  /** The broker's listeners in this process; absent (an API-only node): the configured MQTT ports are told. */
  mqttListening?: MqttListening;
}

export interface HttpOptions {
  /** Failed authentications (401) one address may make per window before getting 429. Default 30. */
  authFailureLimit?: number;
  /** The window of that limit, in ms. Default 15 minutes. */
  authFailureWindowMs?: number;
  /** Most buckets one series request may ask for. Default 10 000. */
  maxSeriesBuckets?: number;
  /**
   * Whether `/metrics` is open without a key, as most Prometheus exporters are (restrict it at the network
   * instead). False requires a viewer key. Default true.
   */
  metricsPublic?: boolean;
  /** Folder of the static live page. Default: dashboards/public beside this code. */
  publicDir?: string;
}
