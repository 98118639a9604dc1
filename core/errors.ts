/**
 * The error catalogue. Codes are stable: tests, devices and API clients rely on them, so a code is never
 * renamed or reused. Each part adds its codes here (one place, one numbering of meanings); the HTTP layer
 * maps `httpStatus`, the gateway sends `code` to `devices/{id}/errors`.
 */
export const errorCatalogue = {
  // gateway: connection and topic rights
  GATEWAY_BAD_CREDENTIALS: { httpStatus: 401, retryable: false, message: 'unknown device or wrong password' },
  GATEWAY_DEVICE_DISABLED: { httpStatus: 403, retryable: false, message: 'device is disabled' },
  GATEWAY_NOT_AUTHORIZED: { httpStatus: 403, retryable: false, message: 'topic not allowed for this device' },
  GATEWAY_TOPIC_INVALID: { httpStatus: 400, retryable: false, message: 'topic is not a citymetrics topic' },
  GATEWAY_WILDCARD_PUBLISH: {
    httpStatus: 400,
    retryable: false,
    message: 'wildcards are not allowed in a publish topic',
  },
  GATEWAY_PAYLOAD_TOO_LARGE: { httpStatus: 413, retryable: false, message: 'payload exceeds the size limit' },
  GATEWAY_RATE_LIMITED: {
    httpStatus: 429,
    retryable: true,
    message: 'device exceeds its message rate limit',
  },
  GATEWAY_OVERLOADED: { httpStatus: 503, retryable: true, message: 'platform is shedding load, retry later' },
  // ingest: payload decoding and validation
  INGEST_EMPTY_PAYLOAD: { httpStatus: 400, retryable: false, message: 'payload is empty' },
  INGEST_MALFORMED_JSON: { httpStatus: 400, retryable: false, message: 'payload is not valid JSON' },
  INGEST_TOO_DEEP: { httpStatus: 400, retryable: false, message: 'payload nesting is too deep' },
  INGEST_SCHEMA: { httpStatus: 400, retryable: false, message: 'payload does not match the reading schema' },
  INGEST_SENML_INVALID: { httpStatus: 400, retryable: false, message: 'SenML record is invalid' },
  INGEST_DUPLICATE_KEY: {
    httpStatus: 400,
    retryable: false,
    message: 'an object in the payload repeats a key',
  },
  INGEST_SENML_DUPLICATE_RECORD: {
    httpStatus: 400,
    retryable: false,
    message: 'SenML pack repeats a record (same name and time)',
  },
  INGEST_TOO_MANY_READINGS: { httpStatus: 413, retryable: false, message: 'batch holds too many readings' },
  INGEST_UNKNOWN_METRIC: {
    httpStatus: 400,
    retryable: false,
    message: 'metric is not declared by the device kind',
  },
  INGEST_UNKNOWN_UNIT: { httpStatus: 400, retryable: false, message: 'unit is not accepted for this metric' },
  INGEST_NOT_FINITE: { httpStatus: 400, retryable: false, message: 'value is not a finite number' },
  INGEST_OUT_OF_RANGE: { httpStatus: 400, retryable: false, message: 'value is outside the plausible range' },
  INGEST_TS_INVALID: {
    httpStatus: 400,
    retryable: false,
    message: 'timestamp is not ISO-8601 or epoch milliseconds',
  },
  INGEST_TS_FUTURE: { httpStatus: 400, retryable: false, message: 'timestamp is too far in the future' },
  INGEST_TS_TOO_OLD: {
    httpStatus: 400,
    retryable: false,
    message: 'timestamp is older than the late window',
  },
  INGEST_OUTSIDE_INSTALLATION: {
    httpStatus: 400,
    retryable: false,
    message: "timestamp is outside the device's installed interval",
  },
  INGEST_UNKNOWN_EVENT: { httpStatus: 400, retryable: false, message: 'event type is not known' },
  INGEST_UNKNOWN_DEVICE: { httpStatus: 404, retryable: false, message: 'device is not registered' },
  INGEST_STORE_UNAVAILABLE: { httpStatus: 503, retryable: true, message: 'the store cannot take writes now' },
  INGEST_SHUTTING_DOWN: { httpStatus: 503, retryable: true, message: 'the platform is shutting down' },
  // API
  API_UNAUTHENTICATED: { httpStatus: 401, retryable: false, message: 'missing or invalid API key' },
  API_FORBIDDEN: { httpStatus: 403, retryable: false, message: 'this key role may not do that' },
  API_VALIDATION: { httpStatus: 400, retryable: false, message: 'request is invalid' },
  API_NOT_FOUND: { httpStatus: 404, retryable: false, message: 'no such resource' },
  API_CONFLICT: { httpStatus: 409, retryable: false, message: 'conflicts with the current state' },
  API_BODY_TOO_LARGE: { httpStatus: 413, retryable: false, message: 'request body is too large' },
  API_RATE_LIMITED: { httpStatus: 429, retryable: true, message: 'too many requests' },
  API_INTERNAL: { httpStatus: 500, retryable: true, message: 'internal error' },
  // devices
  DEVICES_UNKNOWN_KIND: { httpStatus: 400, retryable: false, message: 'device kind is not known' },
  DEVICES_NOT_FOUND: { httpStatus: 404, retryable: false, message: 'device is not registered' },
  DEVICES_LIFE_EXCLUDES_READINGS: {
    httpStatus: 409,
    retryable: false,
    message: 'the installed interval would leave stored readings outside it',
  },
  DEVICES_HAS_READINGS: {
    httpStatus: 409,
    retryable: false,
    message: 'the device has stored readings: deleting it would orphan them',
  },
  // config and storage
  CONFIG_INVALID: { httpStatus: 500, retryable: false, message: 'configuration is invalid' },
  STORE_CORRUPT: {
    httpStatus: 500,
    retryable: false,
    message: 'a data file is damaged or not a citymetrics file',
  },
  // backup and restore (citymetrics backup / restore)
  BACKUP_NOTHING_TO_COPY: {
    httpStatus: 500,
    retryable: false,
    message: 'the data directory holds no citymetrics database to back up',
  },
  BACKUP_ARCHIVE_INVALID: {
    httpStatus: 400,
    retryable: false,
    message: 'the file is not a readable citymetrics backup archive',
  },
  BACKUP_CHECKSUM_MISMATCH: {
    httpStatus: 400,
    retryable: false,
    message: 'a file in the backup archive does not match its checksum: the archive is damaged',
  },
  BACKUP_SCHEMA_NEWER: {
    httpStatus: 400,
    retryable: false,
    message: 'the backup was made by a newer citymetrics release than this one',
  },
  BACKUP_TARGET_NOT_EMPTY: {
    httpStatus: 409,
    retryable: false,
    message: 'the data directory to restore into is not empty',
  },
  // simulators
  SIMULATOR_API_UNREACHABLE: {
    httpStatus: 503,
    retryable: true,
    message: 'the citymetrics API cannot be reached',
  },
  SIMULATOR_CREDENTIALS_INVALID: {
    httpStatus: 400,
    retryable: false,
    message: 'the credentials file is not valid',
  },
  // command line and its API client
  CLI_API_UNREACHABLE: {
    httpStatus: 503,
    retryable: true,
    message: 'the citymetrics API cannot be reached',
  },
  CLI_ARGUMENT_INVALID: { httpStatus: 400, retryable: false, message: 'a command-line argument is invalid' },
  CLI_CONFIRMATION_REQUIRED: {
    httpStatus: 400,
    retryable: false,
    message: 'the command cannot be undone and needs --yes',
  },
  CLI_UNEXPECTED: { httpStatus: 500, retryable: false, message: 'the command failed unexpectedly' },
  CLI_API_ANSWER_INVALID: {
    httpStatus: 502,
    retryable: false,
    message: 'the API answered something the client cannot read',
  },
  // metrics
  METRICS_PERIOD_INVALID: {
    httpStatus: 400,
    retryable: false,
    message: 'period label is not YYYY, YYYY-MM, YYYY-Qn or a to-date form',
  },
  // InfluxDB series store
  STORE_QUERY_FAILED: {
    httpStatus: 502,
    retryable: false,
    message: 'the time-series database refused a query',
  },
  // KPI engine: manual values, overrides, month close
  METRICS_UNKNOWN_KPI: { httpStatus: 404, retryable: false, message: 'no KPI with this code' },
  METRICS_OVERRIDE_REQUIRED: {
    httpStatus: 409,
    retryable: false,
    message: 'the KPI is sensor-derived: set override to replace its value',
  },
  METRICS_UNIT_MISMATCH: { httpStatus: 400, retryable: false, message: 'unit does not match the KPI unit' },
  METRICS_VALUE_OUT_OF_RANGE: {
    httpStatus: 400,
    retryable: false,
    message: 'value is outside the range of the KPI unit',
  },
  METRICS_INCONSISTENT: {
    httpStatus: 400,
    retryable: false,
    message: 'value breaks a verifier consistency rule',
  },
  METRICS_IMPORT_INVALID: {
    httpStatus: 400,
    retryable: false,
    message: 'the sheet has invalid rows: nothing was imported',
  },
  METRICS_PERIOD_NOT_ENDED: { httpStatus: 409, retryable: false, message: 'the period has not ended yet' },
  METRICS_ALREADY_CLOSED: { httpStatus: 409, retryable: false, message: 'the period is already closed' },
  // platform start-up: retryable where a later start succeeds once the other process has gone
  PLATFORM_DATA_DIR_IN_USE: {
    httpStatus: 500,
    retryable: true,
    message: 'another citymetrics process is using this data directory',
  },
  PLATFORM_PORT_IN_USE: {
    httpStatus: 500,
    retryable: true,
    message: 'a port to listen on is already in use',
  },
  PLATFORM_LISTEN_FAILED: {
    httpStatus: 500,
    retryable: false,
    message: 'cannot listen on the configured address',
  },
  // cluster: the JetStream durable log between edge and writer nodes
  INGEST_LOG_UNAVAILABLE: {
    httpStatus: 503,
    retryable: true,
    message: 'the durable log (NATS JetStream) did not acknowledge the message',
  },
  INGEST_LOG_MISCONFIGURED: {
    httpStatus: 500,
    retryable: false,
    message: 'the JetStream stream exists with a configuration citymetrics cannot use',
  },
  ALERTS_LEADER_UNAVAILABLE: {
    httpStatus: 503,
    retryable: true,
    message:
      'no kpi leader answered: alert rules and alerts change only through the leader that evaluates them',
  },
  // bridges: uplinks from LoRaWAN network servers (ChirpStack, The Things Stack)
  BRIDGE_UNKNOWN_DEVEUI: {
    httpStatus: 404,
    retryable: false,
    message: 'no registered device has the DevEUI of the uplink',
  },
  BRIDGE_UNDECODABLE: {
    httpStatus: 400,
    retryable: false,
    message: 'the uplink has no decoded payload and the kind codec cannot decode its bytes',
  },
  BRIDGE_UNKNOWN_FIELD: {
    httpStatus: 400,
    retryable: false,
    message: 'a decoded field is not in the mapping table of the device kind',
  },
  // report packs (metrics/report-pack): a closed month's files delivered to a folder and a webhook
  REPORT_MONTH_INVALID: {
    httpStatus: 400,
    retryable: false,
    message: 'a report pack is for a month: YYYY-MM',
  },
  REPORT_UNKNOWN_MONTH: {
    httpStatus: 404,
    retryable: false,
    message: 'the month has no report pack and is not closed',
  },
  REPORT_MONTH_NOT_CLOSED: {
    httpStatus: 409,
    retryable: false,
    message: 'the month is not closed: its report pack is made when it closes',
  },
  REPORT_NO_TARGET: {
    httpStatus: 409,
    retryable: false,
    message: 'no report target is configured (REPORT_DIR, REPORT_WEBHOOK_URL)',
  },
  REPORT_DELIVERY_FAILED: {
    httpStatus: 502,
    retryable: true,
    message: 'a report pack could not be delivered to its target',
  },
  REPORT_LEADER_UNAVAILABLE: {
    httpStatus: 503,
    retryable: true,
    message: 'no kpi leader answered: in a cluster report packs are built and sent by the kpi leader only',
  },
} as const;

export type ErrorCode = keyof typeof errorCatalogue;

/** An error that carries a stable code from the catalogue, and optionally the offending part of the input. */
export class CityError extends Error {
  readonly code: ErrorCode;
  readonly httpStatus: number;
  readonly retryable: boolean;
  /** Where in the input the problem is: a JSON path such as `values.no2.unit`, a field or a row/column. */
  readonly field: string | undefined;
  readonly details: unknown;
  /** What the person should do about it, for the command line (never sent by the API). */
  readonly fix: string | undefined;

  constructor(
    code: ErrorCode,
    message?: string,
    options: { field?: string; details?: unknown; cause?: unknown; fix?: string } = {},
  ) {
    const entry = errorCatalogue[code];
    super(message ?? entry.message, { cause: options.cause });
    this.name = 'CityError';
    this.code = code;
    this.httpStatus = entry.httpStatus;
    this.retryable = entry.retryable;
    this.field = options.field;
    this.details = options.details;
    this.fix = options.fix;
  }

  toJSON(): { code: ErrorCode; message: string; field?: string; details?: unknown } {
    const out: { code: ErrorCode; message: string; field?: string; details?: unknown } = {
      code: this.code,
      message: this.message,
    };
    if (this.field !== undefined) out.field = this.field;
    if (this.details !== undefined) out.details = this.details;
    return out;
  }
}

export function isCityError(err: unknown): err is CityError {
  return err instanceof CityError;
}
