import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { ClusterRole } from '../../core/config-cluster.ts';
import { startHaproxy } from './haproxy-server.ts';
import { type NatsNode, startNatsNodes } from './nats-nodes.ts';
import { type PostgresServer, startPostgresServer } from './postgres-server.ts';
import { freePort, ProcessServer } from './process-server.ts';

/**
 * A whole cluster on one machine, from Debian's packages: NATS JetStream nodes joined by routes,
 * PostgreSQL, haproxy, and each role as its own `citymetrics start --roles <role>` process. What `npm run
 * cluster` runs, and what the cluster failure tests break. Everything lives under `dir`: the servers' data
 * (kept between runs), each node's data dir and log, and `cluster.json`, which says where everything is.
 */

export interface LocalClusterOptions {
  dir: string;
  /** how many processes of each role (default 2 each) */
  counts?: Partial<Record<ClusterRole, number>>;
  /** NATS nodes (default 3; the stream keeps min(3, nodes) replicas) */
  natsNodes?: number;
  /** haproxy's MQTT and HTTP ports (free ones if not given) */
  mqttPort?: number;
  httpPort?: number;
  /** the admin API key: given (ADMIN_TOKEN), or kept in `<dir>/admin-token`, made at the first run */
  adminToken?: string;
  /** what follows `node` to run the citymetrics CLI (the entry this process was started with) */
  cliCommand: string[];
  /** more environment for every role (LOG_LEVEL, CITY_TIMEZONE...) */
  env?: Record<string, string>;
  /** said as each part comes up */
  onProgress?: (message: string) => void;
  binaries?: { nats?: string; postgresBinDir?: string; haproxy?: string };
}

export interface ClusterNodeInfo {
  name: string;
  role: ClusterRole;
  pid: number | null;
  /** its own /healthz, /readyz, /metrics (and the API on an api node) */
  http: string;
  /** an edge's own MQTT listener (devices use haproxy's) */
  mqtt?: string;
  dataDir: string;
  log: string;
}

/** What `cluster.json` holds. */
export interface ClusterInfo {
  /** the api nodes' own URLs */
  api: string[];
  /** the REST API and live page through haproxy */
  http: string;
  /** MQTT through haproxy: what devices connect to */
  mqtt: string;
  adminToken: string;
  haproxyStats: string;
  postgresUrl: string;
  natsUrls: string[];
  /** role (and server) → process ids */
  processes: Record<string, number[]>;
  nodes: ClusterNodeInfo[];
  startedAt: string;
}

export interface LocalCluster {
  readonly info: ClusterInfo;
  /** A node by name (`edge-1`...), to stop or start again. */
  node(name: string): RoleNode;
  readonly nats: readonly NatsNode[];
  readonly postgres: PostgresServer;
  /** Stops everything: roles first (they drain), then haproxy, NATS and PostgreSQL. */
  stop(): Promise<void>;
}

export interface RoleNode {
  readonly info: ClusterNodeInfo;
  readonly server: ProcessServer;
}

const DEFAULT_COUNT = 2;
const ROLE_ORDER: readonly ClusterRole[] = ['api', 'writer', 'kpi', 'edge'];
/** a role process through tsx on two shared cores can take a while to load */
const ROLE_READY_TIMEOUT_MS = 120_000;
const DATABASE = 'citymetrics';

function adminTokenFor(dir: string, given: string | undefined): string {
  if (given !== undefined) return given;
  const file = join(dir, 'admin-token');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const token = `cm_admin_${randomBytes(24).toString('base64url')}`;
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return token;
}

async function ensureDatabase(pg: PostgresServer): Promise<string> {
  const found = await pg.query(`SELECT 1 FROM pg_database WHERE datname = '${DATABASE}'`);
  if (found.rowCount === 0) await pg.query(`CREATE DATABASE ${DATABASE}`);
  return pg.urlOf(DATABASE);
}

export async function startLocalCluster(options: LocalClusterOptions): Promise<LocalCluster> {
  const { dir } = options;
  const say = options.onProgress ?? (() => {});
  mkdirSync(join(dir, 'nodes'), { recursive: true });
  // Run as root, PostgreSQL runs as the `postgres` user, which must be able to pass through this
  // directory to its own (a private temp dir would stop it); nothing here is listable by others.
  if (process.getuid?.() === 0) chmodSync(dir, 0o711);
  const started: Array<{ stop(signal?: NodeJS.Signals): Promise<void> }> = [];
  const stopAll = async () => {
    // Reverse order of start: roles drain into the servers before those go.
    for (const s of started.splice(0).reverse()) await s.stop().catch(() => {});
  };
  try {
    say('starting PostgreSQL');
    const postgres = await startPostgresServer({
      dir: join(dir, 'postgres'),
      logs: true,
      ...(options.binaries?.postgresBinDir !== undefined ? { binDir: options.binaries.postgresBinDir } : {}),
    });
    started.push(postgres);
    const postgresUrl = await ensureDatabase(postgres);
    const natsCount = options.natsNodes ?? 3;
    say(`starting ${natsCount} NATS JetStream node${natsCount === 1 ? '' : 's'}`);
    const nats = await startNatsNodes({
      dir: join(dir, 'nats'),
      nodes: natsCount,
      clusterName: 'citymetrics-local',
      logs: true,
      ...(options.binaries?.nats !== undefined ? { binary: options.binaries.nats } : {}),
    });
    for (const n of nats) started.push(n);
    const adminToken = adminTokenFor(dir, options.adminToken);
    const shared: Record<string, string> = {
      NATS_URL: nats.map((n) => n.url).join(','),
      POSTGRES_URL: postgresUrl,
      STORE: 'postgres',
      JETSTREAM_REPLICAS: String(Math.min(3, natsCount)),
      ADMIN_TOKEN: adminToken,
      HTTP_HOST: '127.0.0.1',
      MQTT_HOST: '127.0.0.1',
      MQTT_WS_PORT: '0',
      LOG_FORMAT: 'json',
      ...options.env,
    };
    const nodes: RoleNode[] = [];
    const makeNode = async (role: ClusterRole, index: number): Promise<RoleNode> => {
      const name = `${role}-${index}`;
      const http = await freePort();
      const mqtt = role === 'edge' ? await freePort() : undefined;
      const dataDir = join(dir, 'nodes', name);
      mkdirSync(dataDir, { recursive: true });
      const log = join(dir, 'nodes', `${name}.log`);
      const server = new ProcessServer({
        name,
        command: process.execPath,
        args: [...options.cliCommand, 'start', '--roles', role],
        env: {
          ...shared,
          DATA_DIR: dataDir,
          HTTP_PORT: String(http),
          ...(mqtt !== undefined ? { MQTT_PORT: String(mqtt) } : {}),
        },
        readyUrl: `http://127.0.0.1:${http}/readyz`,
        readyTimeoutMs: ROLE_READY_TIMEOUT_MS,
        logFile: log,
      });
      const info: ClusterNodeInfo = {
        name,
        role,
        get pid() {
          return server.pid;
        },
        http: `http://127.0.0.1:${http}`,
        ...(mqtt !== undefined ? { mqtt: `mqtt://127.0.0.1:${mqtt}` } : {}),
        dataDir,
        log,
      };
      return { info, server };
    };
    for (const role of ROLE_ORDER) {
      const count = options.counts?.[role] ?? DEFAULT_COUNT;
      for (let i = 1; i <= count; i++) nodes.push(await makeNode(role, i));
    }
    const startNode = async (n: RoleNode) => {
      try {
        await n.server.start();
      } catch (err) {
        throw new Error(`${n.info.name} did not become ready (its log: ${n.info.log})`, { cause: err });
      }
      started.push(n.server);
    };
    // The first node creates the schemas in PostgreSQL and the stream in JetStream; the rest start
    // together once those exist.
    const [first, ...rest] = nodes;
    if (first !== undefined) {
      say(`starting ${first.info.name} (creates the schemas)`);
      await startNode(first);
    }
    say(`starting ${rest.map((n) => n.info.name).join(', ')}`);
    // As many at once as there are spare cores: loading a role takes a core for seconds, and on a small
    // machine starting them all together only makes each late for its readiness deadline.
    const queue = [...rest];
    const lanes = Math.max(1, availableParallelism() - 1);
    await Promise.all(
      Array.from({ length: Math.min(lanes, queue.length) }, async () => {
        for (let n = queue.shift(); n !== undefined; n = queue.shift()) await startNode(n);
      }),
    );
    const edges = nodes.filter((n) => n.info.role === 'edge');
    const apis = nodes.filter((n) => n.info.role === 'api');
    const portOf = (url: string) => Number(new URL(url).port);
    const mqttPort = options.mqttPort ?? (await freePort());
    const httpPort = options.httpPort ?? (await freePort());
    const statsPort = await freePort();
    say('starting haproxy');
    const haproxy = await startHaproxy({
      dir,
      spec: {
        bind: '127.0.0.1',
        mqttPort,
        httpPort,
        statsPort,
        edges: edges.map((e) => ({
          name: e.info.name,
          host: '127.0.0.1',
          port: portOf(e.info.mqtt!),
          checkPort: portOf(e.info.http),
        })),
        apis: apis.map((a) => ({
          name: a.info.name,
          host: '127.0.0.1',
          port: portOf(a.info.http),
          checkPort: portOf(a.info.http),
        })),
      },
      ...(options.binaries?.haproxy !== undefined ? { binary: options.binaries.haproxy } : {}),
    });
    // haproxy stops before the roles: new connections are refused while the nodes drain.
    started.push(haproxy);
    const processes = (): Record<string, number[]> => {
      const out: Record<string, number[]> = {};
      const add = (key: string, pid: number | null) => {
        if (pid !== null) out[key] = [...(out[key] ?? []), pid];
      };
      for (const n of nodes) add(n.info.role, n.server.pid);
      for (const n of nats) add('nats', n.pid);
      add('postgres', postgres.pid);
      add('haproxy', haproxy.pid);
      return out;
    };
    const info: ClusterInfo = {
      api: apis.map((a) => a.info.http),
      http: `http://127.0.0.1:${httpPort}`,
      mqtt: `mqtt://127.0.0.1:${mqttPort}`,
      adminToken,
      haproxyStats: `http://127.0.0.1:${statsPort}/stats`,
      postgresUrl,
      natsUrls: nats.map((n) => n.url),
      processes: processes(),
      nodes: nodes.map((n) => ({ ...n.info, pid: n.server.pid })),
      startedAt: new Date().toISOString(),
    };
    writeFileSync(join(dir, 'cluster.json'), `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
    return {
      info,
      nats,
      postgres,
      node(name) {
        const found = nodes.find((n) => n.info.name === name);
        if (found === undefined)
          throw new Error(`no node ${name} (${nodes.map((n) => n.info.name).join(', ')})`);
        return found;
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
