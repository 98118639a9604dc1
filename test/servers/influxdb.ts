import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findServerBinary, freePort, ProcessServer } from './process-server.ts';

export const INFLUXD_PATH = '/usr/bin/influxd';

/** A real InfluxDB 1.x (Debian's influxd) on 127.0.0.1, data in a temp dir, for tests. */
export interface InfluxTestServer {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly dataDir: string;
  /** Runs InfluxQL through /query (POST: CREATE and DELETE need it); throws on an error in any result. */
  query(q: string, db?: string): Promise<InfluxQueryResult[]>;
  /** Stops the process, keeping its data (outage tests). */
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** Stops it and removes its data. */
  destroy(): Promise<void>;
}

export interface InfluxQueryResult {
  statement_id: number;
  error?: string;
  series?: Array<{ name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }>;
}

/** The binary, or null (the caller skips) when influxdb is not installed; under CI a missing binary throws. */
export const influxdBinary = (): string | null => findServerBinary(INFLUXD_PATH, 'influxdb');

/**
 * Starts influxd with a config of our own: HTTP on a free port, the RPC (backup) service on another (its
 * default 8088 would clash between test files), meta/data/wal in the temp dir, no reporting, no _internal
 * monitoring database, no other listeners.
 */
export async function startInfluxd(binary: string = INFLUXD_PATH): Promise<InfluxTestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'citymetrics-influxd-'));
  const httpPort = await freePort();
  const rpcPort = await freePort();
  const config = join(dir, 'influxdb.conf');
  writeFileSync(
    config,
    [
      'reporting-disabled = true',
      `bind-address = "127.0.0.1:${rpcPort}"`,
      '[meta]',
      `  dir = "${join(dir, 'meta')}"`,
      '[data]',
      `  dir = "${join(dir, 'data')}"`,
      `  wal-dir = "${join(dir, 'wal')}"`,
      '  query-log-enabled = false',
      '[monitor]',
      '  store-enabled = false',
      '[http]',
      `  bind-address = "127.0.0.1:${httpPort}"`,
      '  log-enabled = false',
      '  pprof-enabled = false',
      '[logging]',
      '  level = "warn"',
      '  suppress-logo = true',
      '[continuous_queries]',
      '  enabled = false',
      '',
    ].join('\n'),
  );
  const url = `http://127.0.0.1:${httpPort}`;
  const server = new ProcessServer({
    name: 'influxd',
    command: binary,
    args: ['run', '-config', config],
    readyUrl: `${url}/ping`,
  });
  await server.start();

  const query = async (q: string, db?: string): Promise<InfluxQueryResult[]> => {
    const body = new URLSearchParams({ q, epoch: 'ms', ...(db !== undefined ? { db } : {}) });
    const res = await fetch(`${url}/query`, { method: 'POST', body, signal: AbortSignal.timeout(30_000) });
    const text = await res.text();
    if (!res.ok) throw new Error(`influxd /query ${res.status}: ${text}`);
    const json = JSON.parse(text) as { results: InfluxQueryResult[]; error?: string };
    if (json.error !== undefined) throw new Error(`influxd: ${json.error}`);
    const failed = json.results.find((r) => r.error !== undefined);
    if (failed !== undefined) throw new Error(`influxd: ${failed.error}`);
    return json.results;
  };

  return {
    url,
    dataDir: dir,
    query,
    stop: () => server.stop(),
    start: () => server.start(),
    destroy: async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
