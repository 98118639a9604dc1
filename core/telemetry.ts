import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Every Prometheus metric of the platform, defined in one place so names stay consistent and documented.
 * Each part receives this object and moves its own counters.
 */
export function createTelemetry() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'citymetrics_process_' });
  const m = {
    registry,
    messagesReceived: new Counter({
      name: 'citymetrics_messages_received_total',
      help: 'MQTT messages received from devices, by channel',
      labelNames: ['channel'] as const,
      registers: [registry],
    }),
    messagesRefused: new Counter({
      name: 'citymetrics_messages_refused_total',
      help: 'Messages refused or dropped, by reason code',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    readingsAccepted: new Counter({
      name: 'citymetrics_readings_accepted_total',
      help: 'Readings (one timestamp of one device) accepted into the durable log',
      registers: [registry],
    }),
    valuesAccepted: new Counter({
      name: 'citymetrics_values_accepted_total',
      help: 'Values (one metric of one reading) accepted into the durable log',
      registers: [registry],
    }),
    valuesStored: new Counter({
      name: 'citymetrics_values_stored_total',
      help: 'Values written to the series store, by outcome (inserted, duplicate, revision)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    pointsExpired: new Counter({
      name: 'citymetrics_points_expired_total',
      help: 'Points not stored because they were older than raw retention (acknowledged, then dropped)',
      registers: [registry],
    }),
    storeWriteFailures: new Counter({
      name: 'citymetrics_store_write_failures_total',
      help: 'Failed series store writes (retried)',
      registers: [registry],
    }),
    ingestBacklog: new Gauge({
      name: 'citymetrics_ingest_backlog_values',
      help: 'Values in the durable log not yet in the series store',
      registers: [registry],
    }),
    logCommitSeconds: new Histogram({
      name: 'citymetrics_log_commit_seconds',
      help: 'Durable log group-commit duration',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
      registers: [registry],
    }),
    mqttConnections: new Gauge({
      name: 'citymetrics_mqtt_connections',
      help: 'Connected MQTT clients',
      registers: [registry],
    }),
    gatewayHookFailures: new Counter({
      name: 'citymetrics_gateway_hook_failures_total',
      help: 'Broker hooks that threw: the one connection was closed, nothing acknowledged',
      labelNames: ['hook'] as const,
      registers: [registry],
    }),
    mqttAuthFailures: new Counter({
      name: 'citymetrics_mqtt_auth_failures_total',
      help: 'Refused MQTT connections, by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    publishesPaced: new Counter({
      name: 'citymetrics_mqtt_publishes_paced_total',
      help: 'QoS 0/1 publishes held past a device rate limit before being taken (held, never dropped)',
      registers: [registry],
    }),
    errorReportsSkipped: new Counter({
      name: 'citymetrics_error_reports_skipped_total',
      help: 'Refusals not reported on devices/{id}/errors because the device was not reading (still counted as refused)',
      registers: [registry],
    }),
    httpRequests: new Counter({
      name: 'citymetrics_http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['route', 'status'] as const,
      registers: [registry],
    }),
    liveRelayed: new Counter({
      name: 'citymetrics_live_relayed_total',
      help: 'Cluster: messages of other nodes announced on this node (readings, events, status)',
      labelNames: ['channel'] as const,
      registers: [registry],
    }),
    liveRelayDropped: new Counter({
      name: 'citymetrics_live_relay_dropped_total',
      help: 'Cluster: messages of other nodes not announced here, by reason (pending-limit, undecodable)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    liveRelayPending: new Gauge({
      name: 'citymetrics_live_relay_pending',
      help: 'Cluster: messages received from NATS and not yet announced on this node',
      registers: [registry],
    }),
    liveRelaySlow: new Gauge({
      name: 'citymetrics_live_relay_slow',
      help: 'Cluster: 1 while this node drops live messages because it falls behind (slow consumer)',
      registers: [registry],
    }),
  };
  return m;
}

export type Telemetry = ReturnType<typeof createTelemetry>;
