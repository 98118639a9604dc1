import { z } from 'zod';

const positiveInt = z.coerce.number().int().positive();

/**
 * The monthly report pack (metrics/report-pack), spread into configSchema. A target is on when it is set:
 * REPORT_DIR (a folder) and REPORT_WEBHOOK_URL (an HTTP endpoint), either or both.
 */
export const reportConfigShape = {
  reportDir: z
    .string()
    .min(1)
    .optional()
    .describe(
      'folder the report packs are written to, as <dir>/<YYYY-MM>/v<version>/; unset: no folder target',
    ),
  reportWebhookUrl: z
    .url({ protocol: /^https?$/ })
    .optional()
    .describe(
      'HTTP(S) endpoint each report pack is POSTed to (JSON, files base64); unset: no webhook target',
    ),
  reportWebhookSecret: z
    .string()
    .min(16)
    .optional()
    .describe(
      'HMAC-SHA256 key signing each webhook body (X-Citymetrics-Signature-256); required with the URL',
    ),
  reportWebhookTimeoutMs: positiveInt.default(30_000).describe('one webhook request may take this long (ms)'),
  reportRetryMax: z.coerce
    .number()
    .int()
    .min(0)
    .max(100)
    .default(8)
    .describe('retries of a failed delivery after its first attempt (restarts included)'),
  reportRetryMinDelayMs: positiveInt
    .default(1_000)
    .describe('delay before the first retry (ms), doubling after'),
  reportRetryMaxDelayMs: positiveInt
    .default(300_000)
    .describe('longest delay between two retries (ms); each delay is randomised ×1–2 within it'),
};
