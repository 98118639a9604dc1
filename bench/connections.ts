import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { forkChild } from './ipc.ts';
import type { DeviceLogin } from './load-generator.ts';
import { sampleAll } from './proc-stats.ts';
import type { StartArgs, StartedTarget } from './target-process.ts';
import type { TargetKind } from './targets/target.ts';

/**
 * RSS per idle device connection: the system under test is started, collects garbage and is measured; then
 * the lean generator connects N devices (authenticated, for citymetrics), garbage is collected again and
 * the growth divided by N. Each N runs on a fresh process.
 */

export interface ConnectionPoint {
  requested: number;
  connected: number;
  failed: number;
  connectSec: number;
  baselineMb: number;
  rssMb: number;
  bytesPerConnection: number;
  note?: string;
}

export interface ConnectionsResult {
  kind: TargetKind;
  points: ConnectionPoint[];
}

/** Open files one process may hold here: each connection is a descriptor on both sides. */
export function openFileLimit(): number {
  try {
    const m = /Max open files\s+(\d+|unlimited)/.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m?.[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(m?.[1] ?? Number.NaN);
  } catch {
    return Number.NaN;
  }
}

const settle = () => new Promise((r) => setTimeout(r, 500));

export async function runConnections(
  kind: TargetKind,
  counts: readonly number[],
  setup: { workDir: string; logins?: DeviceLogin[]; registryTemplate?: string },
  log: (line: string) => void,
): Promise<ConnectionsResult> {
  const points: ConnectionPoint[] = [];
  const limit = openFileLimit();
  for (const requested of counts) {
    // Descriptors beyond the connections: databases, listeners, the runtime's own.
    const feasible = Number.isFinite(limit) ? Math.min(requested, limit - 1_000) : requested;
    const n = kind === 'citymetrics' ? Math.min(feasible, setup.logins?.length ?? 0) : feasible;
    const note =
      n < requested
        ? `only ${n} here: a process may hold ${limit} open files (ulimit -n) and cannot raise it`
        : undefined;
    const target = forkChild('./target-process.ts', ['--expose-gc']);
    const gen = forkChild('./idle-connections.ts');
    try {
      const args: StartArgs = {
        kind,
        qos: 0,
        devices: n,
        dataDir: mkdtempSync(join(setup.workDir, `conn-${kind}-`)),
        ...(setup.registryTemplate !== undefined ? { registryTemplate: setup.registryTemplate } : {}),
        ...(setup.logins !== undefined ? { logins: setup.logins.slice(0, n) } : {}),
      };
      const started = await target.call<StartedTarget>('start', args);
      // One connection opened and closed first: what the first connection costs once (mqtt-packet builds a
      // 65 536-entry number cache, ~6 MB, on its first write) is not a cost per connection, and at the
      // quick run's 200 connections it would be most of the figure.
      const warm = started.devices.slice(0, 1);
      if (warm.length > 0) {
        await gen.call(
          'open',
          { host: started.host, port: started.port, logins: warm, concurrency: 1 },
          60_000,
        );
        await gen.call('closeAll');
      }
      await target.call('gc');
      await settle();
      await target.call('gc');
      const base = sampleAll(started.pids).rssBytes;
      const opened = await gen.call<{ opened: number; failed: number; ms: number }>(
        'open',
        { host: started.host, port: started.port, logins: started.devices, concurrency: 200 },
        600_000,
      );
      await target.call('gc');
      await settle();
      await target.call('gc');
      const rss = sampleAll(started.pids).rssBytes;
      const point: ConnectionPoint = {
        requested,
        connected: opened.opened,
        failed: opened.failed,
        connectSec: opened.ms / 1000,
        baselineMb: base / 2 ** 20,
        rssMb: rss / 2 ** 20,
        bytesPerConnection: opened.opened > 0 ? (rss - base) / opened.opened : Number.NaN,
        ...(note !== undefined ? { note } : {}),
      };
      points.push(point);
      log(
        `  ${kind}: ${point.connected} idle connections (${point.failed} failed) in ${point.connectSec.toFixed(1)} s: ` +
          `${(point.bytesPerConnection / 1024).toFixed(1)} KB each${note !== undefined ? ` (${note})` : ''}`,
      );
    } finally {
      await gen.call('closeAll').catch(() => {});
      await gen.close();
      await target.call('stop').catch(() => {});
      await target.close();
    }
  }
  return { kind, points };
}
