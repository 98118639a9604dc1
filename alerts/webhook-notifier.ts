import type { Logger } from '../core/logger.ts';
import type { Alert } from './alert-types.ts';

/**
 * POSTs an alert as JSON to a rule's webhook when it opens and when it clears. Never awaited by the caller:
 * a slow or dead receiver must not hold up the engine, let alone ingest. Each request has a timeout; at most
 * `maxInFlight` requests run at once and further ones are dropped (counted), so a dead receiver cannot pile
 * up sockets and memory. No retries: the alert list in the API is the record, the webhook only a nudge.
 */

export interface WebhookOptions {
  /** Per request, ms. Default 5 000. */
  timeoutMs?: number;
  /** Requests in flight at most. Default 32. */
  maxInFlight?: number;
  /** Injectable for tests that want to watch the requests; default the global fetch. */
  fetch?: typeof fetch;
}

export interface WebhookCounters {
  sent: number;
  failed: number;
  dropped: number;
}

export class WebhookNotifier {
  readonly counters: WebhookCounters = { sent: 0, failed: 0, dropped: 0 };
  private readonly inFlight = new Set<Promise<void>>();
  private readonly timeoutMs: number;
  private readonly maxInFlight: number;
  private readonly doFetch: typeof fetch;

  constructor(
    private readonly logger: Logger,
    options: WebhookOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 5_000;
    this.maxInFlight = options.maxInFlight ?? 32;
    this.doFetch = options.fetch ?? fetch;
  }

  notify(url: string, event: 'opened' | 'cleared', alert: Alert, cityName: string): void {
    if (this.inFlight.size >= this.maxInFlight) {
      this.counters.dropped++;
      this.logger.warn({ alertId: alert.id }, 'webhook dropped: too many requests in flight');
      return;
    }
    const body = JSON.stringify({ event, city: cityName, alert });
    const request = this.send(url, body, alert.id).finally(() => this.inFlight.delete(request));
    this.inFlight.add(request);
  }

  private async send(url: string, body: string, alertId: string): Promise<void> {
    try {
      const res = await this.doFetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'citymetrics-alerts' },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
        redirect: 'error',
      });
      // The body is not ours to read, but must be consumed so the socket is released.
      await res.body?.cancel();
      if (res.ok) this.counters.sent++;
      else {
        this.counters.failed++;
        this.logger.warn({ alertId, status: res.status }, 'webhook answered with an error');
      }
    } catch (err) {
      this.counters.failed++;
      this.logger.warn({ alertId, err: (err as Error).message }, 'webhook failed');
    }
  }

  /** Waits for the requests in flight (each bounded by its timeout). */
  async drain(): Promise<void> {
    await Promise.all([...this.inFlight]);
  }
}
