import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findServerBinary, freePort, ProcessServer } from './process-server.ts';

export const VICTORIA_METRICS_PATH = '/usr/bin/victoria-metrics';

/**
 * A real VictoriaMetrics (Debian's 1.79.x) on 127.0.0.1: it speaks the InfluxDB v2 write API
 * (`/api/v2/write`) that the client's WriteApi uses, so the WriteApi path is tested against a real server.
 */
export interface VictoriaTestServer {
  readonly url: string;
  readonly dataDir: string;
  /** Makes points written so far visible to queries (otherwise they show after ~9 s). */
  forceFlush(): Promise<void>;
  /** Raw samples of the series matching `match` (e.g. `{__name__="pm25_value"}`), via /api/v1/export. */
  exportSeries(match: string): Promise<ExportedSeries[]>;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

export interface ExportedSeries {
  metric: Record<string, string>;
  values: number[];
  timestamps: number[];
}

export const victoriaMetricsBinary = (): string | null =>
  findServerBinary(VICTORIA_METRICS_PATH, 'victoria-metrics');

/**
 * Starts victoria-metrics with `-retentionPeriod=100y` (it silently drops points older than its retention,
 * one month by default) and `-search.latencyOffset=0s` (fresh points are otherwise hidden for 30 s).
 */
export async function startVictoriaMetrics(
  binary: string = VICTORIA_METRICS_PATH,
): Promise<VictoriaTestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'citymetrics-vm-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const server = new ProcessServer({
    name: 'victoria-metrics',
    command: binary,
    args: [
      `-httpListenAddr=127.0.0.1:${port}`,
      `-storageDataPath=${join(dir, 'data')}`,
      '-retentionPeriod=100y',
      '-search.latencyOffset=0s',
      '-loggerLevel=ERROR',
    ],
    readyUrl: `${url}/health`,
  });
  await server.start();

  const get = async (path: string): Promise<string> => {
    const res = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(30_000) });
    const text = await res.text();
    if (!res.ok) throw new Error(`victoria-metrics ${path} ${res.status}: ${text}`);
    return text;
  };

  return {
    url,
    dataDir: dir,
    forceFlush: async () => {
      await get('/internal/force_flush');
    },
    exportSeries: async (match) => {
      const text = await get(`/api/v1/export?${new URLSearchParams({ 'match[]': match, start: '0' })}`);
      return text
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as ExportedSeries);
    },
    stop: () => server.stop(),
    start: () => server.start(),
    destroy: async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
