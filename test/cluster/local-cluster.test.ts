import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterInfo } from '../../cluster/local/local-cluster.ts';
import { topicFor } from '../../core/topics.ts';
import { makeTempDir, type TempDir } from '../helpers/temp-dir.ts';
import { ROOT } from '../reliability/platform-process.ts';
import { natsServerBinary } from '../servers/nats.ts';
import { postgresBinDir } from '../servers/postgres.ts';
import { findServerBinary } from '../servers/process-server.ts';
import { until } from './role-process.ts';

/**
 * `citymetrics cluster` as a user runs it (a child process, what it says in cluster.json), and broken the
 * way machines break: under QoS 1 load from many devices connected through haproxy, an edge is killed
 * with SIGKILL. The devices reconnect through haproxy to the other edge and resend what was not
 * acknowledged; at the end every acknowledged reading is stored once, and the roll-ups agree with a
 * recount of the raw points.
 */

const haproxy = findServerBinary('/usr/sbin/haproxy', 'haproxy');
const ready = natsServerBinary() !== null && postgresBinDir() !== null && haproxy !== null;

const DEVICES = 12;
const MINUTE = 60_000;

let dir: TempDir;
let launcher: ChildProcess;
let exited: Promise<number | null>;
let info: ClusterInfo;
let output = '';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${info.http}${path}`, {
    method,
    headers: { authorization: `Bearer ${info.adminToken}`, 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, body: (await res.json()) as T };
}

beforeAll(async () => {
  if (!ready) return;
  dir = makeTempDir('cm-local-cluster-');
  launcher = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(ROOT, 'cli.ts'),
      'cluster',
      '--dir',
      dir.path,
      '--edges',
      '2',
      '--writers',
      '2',
      '--kpis',
      '1',
      '--apis',
      '1',
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'warn' } },
  );
  launcher.stdout?.on('data', (c: Buffer) => {
    output += c.toString('utf8');
  });
  launcher.stderr?.on('data', (c: Buffer) => {
    output += c.toString('utf8');
  });
  exited = new Promise((resolve) => launcher.once('exit', (code) => resolve(code)));
  const file = join(dir.path, 'cluster.json');
  await until('cluster.json', () => existsSync(file) || launcher.exitCode !== null, 240_000).catch(() => {
    throw new Error(`the cluster did not come up:\n${output}`);
  });
  if (!existsSync(file)) throw new Error(`the cluster did not come up:\n${output}`);
  info = JSON.parse(readFileSync(file, 'utf8')) as ClusterInfo;
}, 300_000);

afterAll(async () => {
  if (launcher !== undefined && launcher.exitCode === null) {
    launcher.kill('SIGKILL');
    for (const pids of Object.values(info?.processes ?? {}))
      for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  }
  dir?.remove();
});

describe.skipIf(!ready)('npm run cluster: a whole cluster on one machine, broken on purpose', () => {
  it('says where everything is in cluster.json, and every node is ready behind haproxy', async () => {
    expect(info.api).toHaveLength(1);
    expect(info.mqtt).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
    expect(info.adminToken.length).toBeGreaterThan(20);
    expect(info.processes.edge).toHaveLength(2);
    expect(info.processes.writer).toHaveLength(2);
    expect(info.processes.kpi).toHaveLength(1);
    expect(info.processes.nats).toHaveLength(3);
    expect(output).toContain(info.adminToken);
    for (const n of info.nodes) {
      const res = await fetch(`${n.http}/readyz`);
      expect(res.status, n.name).toBe(200);
    }
    // haproxy's own view: both edges up once they have passed two checks
    await until('haproxy to see both edges up', async () => {
      const stats = await (await fetch(`${info.haproxyStats};csv`)).text();
      return ['edge-1', 'edge-2'].every((e) => new RegExp(`^edges,${e},.*,UP,`, 'm').test(stats));
    });
  });

  it('kill -9 an edge under QoS 1 load: devices reconnect through haproxy, every acknowledged reading is stored once', async () => {
    const devices: Array<{ id: string; password: string }> = [];
    for (let i = 0; i < DEVICES; i++) {
      const res = await api<{ id: string; password: string }>('POST', '/api/devices', {
        kind: 'air-quality-station',
        district: 'D1',
      });
      expect(res.status).toBe(201);
      devices.push(res.body);
    }
    const start = Date.now() - 24 * 60 * MINUTE;
    const acked = new Map<string, Set<number>>(devices.map((d) => [d.id, new Set()]));
    const clients: MqttClient[] = [];
    let publishing = true;
    let reconnects = 0;
    const loops = devices.map(async (d, i) => {
      // The edges hear of new devices from PostgreSQL: log in once they know it.
      let client: MqttClient | null = null;
      await until(`${d.id} logged in`, async () => {
        client = await new Promise<MqttClient>((resolve, reject) => {
          const c = mqtt.connect(info.mqtt, {
            clientId: d.id,
            username: d.id,
            password: d.password,
            reconnectPeriod: 0,
            connectTimeout: 5_000,
          });
          c.once('connect', () => resolve(c));
          c.once('error', (err) => {
            c.end(true);
            reject(err);
          });
        });
        return true;
      });
      const c = client!;
      c.options.reconnectPeriod = 250;
      c.on('reconnect', () => {
        reconnects += 1;
      });
      clients.push(c);
      let n = 0;
      const inFlight: Promise<void>[] = [];
      while (publishing) {
        const ts = start + n * MINUTE + i;
        n += 1;
        inFlight.push(
          new Promise<void>((resolve) => {
            c.publish(
              topicFor(d.id, 'telemetry'),
              JSON.stringify({ ts, values: { pm25: 10 + (n % 7) } }),
              { qos: 1 },
              (err) => {
                // The callback of a QoS 1 publish runs on its PUBACK (an error: never acknowledged).
                if (!err) acked.get(d.id)!.add(ts);
                resolve();
              },
            );
          }),
        );
        // At most 20 unacknowledged per device: a device waits when the cluster does.
        if (inFlight.length >= 20) await inFlight.shift();
        await new Promise((r) => setTimeout(r, 20));
      }
      await Promise.all(inFlight);
    });
    const total = () => [...acked.values()].reduce((s, a) => s + a.size, 0);
    await until('load flowing', () => total() > 200, 60_000);
    const victim = info.nodes.find((n) => n.name === 'edge-1')!;
    process.kill(victim.pid!, 'SIGKILL');
    const atKill = total();
    // Readings keep being acknowledged after the kill: through the other edge.
    await until('acknowledgements after the kill', () => total() > atKill + 300, 90_000);
    publishing = false;
    await Promise.all(loops);
    expect(reconnects).toBeGreaterThan(0);
    for (const c of clients) c.end(true);

    // Whole days (the city zone is UTC here), so that the hour and day buckets hold all their minutes.
    const DAY = 24 * 60 * MINUTE;
    const from = new Date(start - (start % DAY)).toISOString();
    const to = new Date(start - (start % DAY) + 3 * DAY).toISOString();
    const stored = async (id: string, step: string) => {
      const res = await api<{ points: Array<{ t: string; count: number }> }>(
        'GET',
        `/api/series?device=${id}&metric=pm25&from=${from}&to=${to}&step=${step}`,
      );
      expect(res.status).toBe(200);
      return res.body.points;
    };
    const count = async (id: string, step: string) =>
      (await stored(id, step)).reduce((s, p) => s + p.count, 0);
    for (const d of devices) {
      const want = acked.get(d.id)!;
      // Readings resent after the kill may land after their PUBACK came through the other edge: wait for
      // the writers to catch up, then the counts must match exactly (a duplicate would make them exceed).
      await until(
        `${d.id}: ${want.size} readings stored`,
        async () => (await count(d.id, 'minute')) >= want.size,
        60_000,
      );
      const minutes = await stored(d.id, 'minute');
      // One reading per minute bucket: every bucket holds one reading, none two (no duplicate).
      expect(
        minutes.every((p) => p.count === 1),
        d.id,
      ).toBe(true);
      const storedTs = new Set(minutes.map((p) => Date.parse(p.t)));
      for (const ts of want) expect(storedTs.has(ts - (ts % MINUTE)), `${d.id} ${ts}`).toBe(true);
      // Roll-ups agree with a recount of the raw points.
      expect(await count(d.id, 'hour'), d.id).toBe(minutes.length);
      expect(await count(d.id, 'day'), d.id).toBe(minutes.length);
    }
    expect(total()).toBeGreaterThan(atKill);
  }, 300_000);

  it('Ctrl-C stops every process it started', async () => {
    launcher.kill('SIGINT');
    expect(await exited).toBe(0);
    for (const [role, pids] of Object.entries(info.processes))
      for (const pid of pids) expect(alive(pid), `${role} ${pid}`).toBe(false);
  }, 120_000);
});
