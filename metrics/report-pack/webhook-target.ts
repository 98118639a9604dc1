import { createHmac } from 'node:crypto';
import type { ReportPack } from './build-pack.ts';
import { DeliveryAttemptError, type DeliveryTarget } from './delivery-target.ts';

/**
 * POSTs a pack to a webhook as one JSON document with every file base64-encoded: one request is one
 * delivery (no multipart parser needed on the receiving side, and the signature covers every byte).
 *
 * ```
 * POST <REPORT_WEBHOOK_URL>
 * content-type: application/json
 * x-citymetrics-event: report-pack
 * x-citymetrics-delivery: <delivery id>        (the same on every retry of one delivery)
 * x-citymetrics-pack: <YYYY-MM>/v<version>      (the same for every delivery of one pack: dedupe on it)
 * x-citymetrics-signature-256: sha256=<hex HMAC-SHA256 of the raw body, key REPORT_WEBHOOK_SECRET>
 *
 * { kind: "citymetrics.report-pack-delivery", deliveryId, sentAt, manifest,
 *   files: [ { name, contentType, bytes, sha256, base64 } ] }
 * ```
 *
 * A 2xx answer delivers. 408, 425, 429 and 5xx, a timeout or a network error are retried; any other 4xx
 * is a refusal that retrying will not change. Redirects are not followed: the body is signed for this URL.
 */

export const SIGNATURE_HEADER = 'x-citymetrics-signature-256';
export const WEBHOOK_BODY_KIND = 'citymetrics.report-pack-delivery';

/** `sha256=<hex>` of the body, as the signature header carries it. */
export const signBody = (secret: string, body: Buffer): string =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

const RETRYABLE_STATUS = new Set([408, 425, 429]);
export const isRetryableStatus = (status: number): boolean => RETRYABLE_STATUS.has(status) || status >= 500;

/** What of an error answer is kept: its first characters, enough to recognise the receiver's message. */
const ANSWER_EXCERPT_CHARS = 200;

async function excerpt(res: Response): Promise<string> {
  const reader = res.body?.getReader();
  if (reader === undefined) return '';
  try {
    const first = await reader.read();
    return first.done ? '' : Buffer.from(first.value).toString('utf8', 0, ANSWER_EXCERPT_CHARS);
  } catch {
    return '';
  } finally {
    await reader.cancel().catch(() => {});
  }
}

/** The webhook URL as the record shows it: origin and path, never the query (it may carry a token). */
export const redactUrl = (url: string): string => {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
};

export interface WebhookTargetOptions {
  url: string;
  secret: string;
  /** one request at most, ms */
  timeoutMs: number;
  clock: { now(): number };
}

export class WebhookTarget implements DeliveryTarget {
  readonly kind = 'webhook' as const;
  readonly destination: string;

  constructor(private readonly options: WebhookTargetOptions) {
    this.destination = redactUrl(options.url);
  }

  body(pack: ReportPack, deliveryId: number): Buffer {
    return Buffer.from(
      JSON.stringify({
        kind: WEBHOOK_BODY_KIND,
        deliveryId,
        sentAt: new Date(this.options.clock.now()).toISOString(),
        manifest: pack.manifest,
        files: pack.files.map((f) => ({
          name: f.name,
          contentType: f.contentType,
          bytes: f.bytes,
          sha256: f.sha256,
          base64: f.body.toString('base64'),
        })),
      }),
      'utf8',
    );
  }

  async deliver(pack: ReportPack, deliveryId: number, signal: AbortSignal): Promise<void> {
    const body = this.body(pack, deliveryId);
    let res: Response;
    try {
      res = await fetch(this.options.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'citymetrics-reports',
          'x-citymetrics-event': 'report-pack',
          'x-citymetrics-delivery': String(deliveryId),
          'x-citymetrics-pack': `${pack.month}/v${pack.version}`,
          [SIGNATURE_HEADER]: signBody(this.options.secret, body),
        },
        body: new Uint8Array(body),
        redirect: 'manual',
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.options.timeoutMs)]),
      });
    } catch (err) {
      if (signal.aborted) throw err;
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why =
        (err as Error).name === 'TimeoutError'
          ? `no answer within ${this.options.timeoutMs} ms`
          : (cause?.code ?? cause?.message ?? (err as Error).message);
      throw new DeliveryAttemptError(`webhook ${this.destination}: ${why}`, true, { cause: err });
    }
    if (res.status >= 200 && res.status < 300) {
      await res.body?.cancel().catch(() => {});
      return;
    }
    const text = await excerpt(res);
    const retryable = isRetryableStatus(res.status);
    throw new DeliveryAttemptError(
      `webhook ${this.destination}: HTTP ${res.status}${res.status >= 300 && res.status < 400 ? ' (redirects are not followed)' : ''}${text ? `: ${text}` : ''}`,
      retryable,
    );
  }
}
