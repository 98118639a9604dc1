import type { ErrorCode } from './errors.ts';

/**
 * What a person at the command line can do about an error, by code. The API sends code and message only;
 * the fix depends on where the person stands (which flag, which command), so it is said here, once.
 */
const FIXES: Partial<Record<ErrorCode, (c: { api: string }) => string>> = {
  CLI_API_UNREACHABLE: ({ api }) =>
    `start the platform (citymetrics start) or point at it with --api <url> or CITYMETRICS_API (now ${api}; the default follows HTTP_PORT)`,
  SIMULATOR_API_UNREACHABLE: ({ api }) =>
    `start the platform (citymetrics start) or point at it with --api <url> (now ${api})`,
  API_UNAUTHENTICATED: () =>
    'pass an API key with --token or CITYMETRICS_TOKEN: the admin key printed at the first start, or one made with `citymetrics keys create`',
  API_FORBIDDEN: () =>
    'use a key whose role may do this (`citymetrics keys list` shows the roles; admins make keys with `citymetrics keys create --role`)',
  API_VALIDATION: () => 'correct the value named in the message (`--help` lists the options)',
  API_NOT_FOUND: () =>
    'check the id or path: `citymetrics devices list` and `citymetrics keys list` show ids',
  API_CONFLICT: () => 'the current state does not allow it: see the message',
  API_BODY_TOO_LARGE: () => 'send a smaller file, or split it',
  API_RATE_LIMITED: () => 'wait a little and run the command again',
  API_INTERNAL: () => 'run the command again; if it keeps failing, look at the platform log',
  DEVICES_NOT_FOUND: () => 'check the id with `citymetrics devices list`',
  DEVICES_UNKNOWN_KIND: () => 'use one of the kinds listed by `citymetrics devices provision --help`',
  DEVICES_HAS_READINGS: () =>
    'decommission it instead (`citymetrics devices decommission <id>`): its readings and KPIs stay correct',
  CLI_ARGUMENT_INVALID: () => 'see `--help` of the command for the accepted values',
  CLI_CONFIRMATION_REQUIRED: () => 'run it again with --yes if you mean it',
  CLI_UNEXPECTED: () => 'run it again with CITYMETRICS_DEBUG=1 to see where it failed, and report that',
  CLI_API_ANSWER_INVALID: () => 'check that --api points at a citymetrics platform of this release',
  CONFIG_INVALID: () => 'fix the settings listed (environment variables or CONFIG_FILE)',
  PLATFORM_PORT_IN_USE: () => 'stop the other process, or set the named variable to a free port',
  PLATFORM_DATA_DIR_IN_USE: () => 'stop the other platform, or give this one its own DATA_DIR',
  PLATFORM_LISTEN_FAILED: () => 'choose another port, or fix HTTP_HOST / MQTT_HOST',
  STORE_CORRUPT: () => 'restore the named file from a backup (citymetrics restore)',
  GATEWAY_BAD_CREDENTIALS: () => 'delete the fleet file to provision new devices, or pass --fleet <file>',
  SIMULATOR_CREDENTIALS_INVALID: () => 'fix or delete the credentials file',
  BACKUP_NOTHING_TO_COPY: () => 'check DATA_DIR or --data-dir',
  BACKUP_ARCHIVE_INVALID: () => 'use another backup',
  BACKUP_CHECKSUM_MISMATCH: () => 'use another backup: this one is damaged',
  BACKUP_SCHEMA_NEWER: () => 'restore it with the newer release that made it',
  BACKUP_TARGET_NOT_EMPTY: () => 'restore into an empty --data-dir, or pass --force to move its files aside',
  METRICS_PERIOD_INVALID: () => 'write the period as YYYY, YYYY-MM or YYYY-Qn',
  METRICS_UNKNOWN_KPI: () => 'list the codes with `citymetrics kpi list`',
  METRICS_OVERRIDE_REQUIRED: () => 'add --override to replace the sensor-derived value',
  METRICS_UNIT_MISMATCH: () => "give the KPI's own unit (`citymetrics kpi list` shows it)",
  METRICS_IMPORT_INVALID: () => 'correct the rows listed and import the whole sheet again',
  METRICS_PERIOD_NOT_ENDED: () => 'close it after it has ended',
  METRICS_ALREADY_CLOSED: () => 'a closed period is restated, not closed again',
  REPORT_MONTH_INVALID: () => 'write the month as YYYY-MM',
  REPORT_MONTH_NOT_CLOSED: () =>
    'close it first (`citymetrics kpi close <month>`, after it has ended): its pack is made then',
  REPORT_UNKNOWN_MONTH: () => '`citymetrics report list` shows the months with packs',
  REPORT_NO_TARGET: () =>
    'set REPORT_DIR, or REPORT_WEBHOOK_URL with REPORT_WEBHOOK_SECRET, and restart the platform',
  REPORT_LEADER_UNAVAILABLE: () =>
    'run it again in a few seconds; if it keeps failing, check that a kpi node runs (its /readyz says leader)',
};

/** The fix for a code, or undefined when there is nothing better to say than the message. */
export function defaultFix(code: ErrorCode, context: { api: string } = { api: '' }): string | undefined {
  return FIXES[code]?.(context);
}
