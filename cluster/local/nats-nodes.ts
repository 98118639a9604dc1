import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, ProcessServer } from './process-server.ts';

/** Debian's nats-server. */
export const NATS_SERVER_PATH = '/usr/sbin/nats-server';

/** One real nats-server with JetStream on file storage, on 127.0.0.1. */
export interface NatsNode {
  /** server_name, as JetStream reports it for stream leaders and replicas */
  readonly name: string;
  /** nats://127.0.0.1:<port> */
  readonly url: string;
  /** http://127.0.0.1:<port>: /healthz, /jsz, /varz */
  readonly monitorUrl: string;
  readonly pid: number | null;
  readonly running: boolean;
  /** Stops it (SIGTERM: clean; SIGKILL: a crash), keeping its JetStream data. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same ports and data. */
  start(): Promise<void>;
}

export interface NatsNodesOptions {
  /** where each node keeps its config and JetStream store (`<dir>/<name>`) */
  dir: string;
  /** 1: one server; more: a cluster joined by routes */
  nodes: number;
  binary?: string;
  /** the route cluster's name (nodes of another name do not join) */
  clusterName: string;
  /** append each node's output to `<dir>/<name>.log` */
  logs?: boolean;
}

interface NodePorts {
  client: number;
  monitor: number;
  route: number;
}

/**
 * Starts one nats-server or a cluster of nodes joined by routes. Each node has its own client, monitoring
 * and route port (free ones) and its JetStream store under `dir`. A node is ready when its /healthz answers
 * 200, which for a cluster means JetStream has a meta leader: the nodes are started together, since none is
 * healthy alone. On failure every node started is stopped again.
 */
export async function startNatsNodes(options: NatsNodesOptions): Promise<NatsNode[]> {
  const { dir, nodes, clusterName } = options;
  const ports: NodePorts[] = [];
  for (let i = 0; i < nodes; i++)
    ports.push({ client: await freePort(), monitor: await freePort(), route: await freePort() });
  mkdirSync(dir, { recursive: true });
  const made = ports.map((p, i) => {
    const name = `n${i + 1}`;
    const storeDir = join(dir, name);
    mkdirSync(storeDir, { recursive: true });
    const lines = [
      `server_name: ${name}`,
      `listen: 127.0.0.1:${p.client}`,
      `http: 127.0.0.1:${p.monitor}`,
      `jetstream { store_dir: "${storeDir}" }`,
    ];
    if (nodes > 1) {
      const routes = ports
        .filter((_, j) => j !== i)
        .map((o) => `nats-route://127.0.0.1:${o.route}`)
        .join(', ');
      lines.push(`cluster { name: ${clusterName}, listen: 127.0.0.1:${p.route}, routes: [${routes}] }`);
    }
    const configFile = join(dir, `${name}.conf`);
    writeFileSync(configFile, `${lines.join('\n')}\n`);
    const server = new ProcessServer({
      name: `nats-server ${name}`,
      command: options.binary ?? NATS_SERVER_PATH,
      args: ['-c', configFile],
      readyUrl: `http://127.0.0.1:${p.monitor}/healthz`,
      ...(options.logs === true ? { logFile: join(dir, `${name}.log`) } : {}),
    });
    const node: NatsNode = {
      name,
      url: `nats://127.0.0.1:${p.client}`,
      monitorUrl: `http://127.0.0.1:${p.monitor}`,
      get pid() {
        return server.pid;
      },
      get running() {
        return server.running;
      },
      stop: (signal) => server.stop(signal),
      start: () => server.start(),
    };
    return { node, server };
  });
  try {
    await Promise.all(made.map((m) => m.server.start()));
  } catch (err) {
    await Promise.all(made.map((m) => m.server.stop('SIGKILL')));
    throw err;
  }
  return made.map((m) => m.node);
}
