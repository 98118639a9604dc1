import { CityError } from '../../../core/errors.ts';
import { authHeaders, type InfluxStoreOptions } from './influx-options.ts';

export interface InfluxSeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

export interface InfluxResult {
  statement_id: number;
  error?: string;
  series?: InfluxSeries[];
}

/**
 * InfluxQL over the v1-compatible `/query` endpoint, which InfluxDB 1.x, 2.x (through a DBRP mapping) and
 * 3.x all serve; Flux is not used (3.x has none). Times come back as epoch ms (`epoch=ms`). POST with a
 * form body: 1.x needs POST for DELETE and CREATE, and long queries stay out of URLs and access logs.
 */
export class InfluxQlClient {
  private readonly endpoint: string;
  private readonly headers: Record<string, string>;

  constructor(private readonly o: InfluxStoreOptions) {
    this.endpoint = `${o.url.replace(/\/+$/, '')}/query`;
    this.headers = { ...authHeaders(o), 'content-type': 'application/x-www-form-urlencoded' };
  }

  /** Runs one or more `;`-separated statements; throws CityError on an unreachable server or any error. */
  async run(q: string, opts: { database?: string | null } = {}): Promise<InfluxResult[]> {
    const params = new URLSearchParams({ q, epoch: 'ms' });
    const db = opts.database === undefined ? this.o.database : opts.database;
    if (db !== null) params.set('db', db);
    if (this.o.retentionPolicy !== '') params.set('rp', this.o.retentionPolicy);
    let res: Response;
    let text: string;
    try {
      res = await fetch(this.endpoint, {
        method: 'POST',
        headers: this.headers,
        body: params,
        signal: AbortSignal.timeout(this.o.requestTimeoutMs),
      });
      text = await res.text();
    } catch (cause) {
      throw new CityError('INGEST_STORE_UNAVAILABLE', `InfluxDB /query unreachable: ${describe(cause)}`, {
        cause,
      });
    }
    if (res.status >= 500 || res.status === 429)
      throw new CityError(
        'INGEST_STORE_UNAVAILABLE',
        `InfluxDB /query answered ${res.status}: ${text.slice(0, 300)}`,
      );
    let json: { results?: InfluxResult[]; error?: string };
    try {
      json = JSON.parse(text) as typeof json;
    } catch {
      throw refused(`answered ${res.status} with a body that is not JSON: ${text.slice(0, 300)}`, q);
    }
    if (!res.ok || json.error !== undefined)
      throw refused(`${res.status}: ${json.error ?? text.slice(0, 300)}`, q);
    const results = json.results ?? [];
    const failed = results.find((r) => r.error !== undefined);
    if (failed !== undefined) throw refused(failed.error ?? '', q);
    return results;
  }
}

const refused = (why: string, q: string): CityError =>
  new CityError('STORE_QUERY_FAILED', `InfluxDB refused the query: ${why}`, { details: { query: q } });

const describe = (err: unknown): string =>
  err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
