import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findServerBinary, freePort, ProcessServer } from './process-server.ts';

export const NATS_SERVER_PATH = '/usr/sbin/nats-server';

/** The binary, or null (the caller skips) when nats-server is not installed; under CI a missing binary throws. */
export const natsServerBinary = (): string | null => findServerBinary(NATS_SERVER_PATH, 'nats-server');

/** One real nats-server with JetStream on file storage, on 127.0.0.1. */
export interface NatsTestNode {
  /** server_name, as JetStream reports it for stream leaders and replicas */
  readonly name: string;
  /** nats://127.0.0.1:<port> */
  readonly url: string;
  readonly running: boolean;
  /** Stops it (SIGTERM: clean; SIGKILL: a crash), keeping its JetStream data. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same ports and data. */
  start(): Promise<void>;
}

export interface NatsTestCluster {
  readonly nodes: readonly NatsTestNode[];
  /** Every node's client URL: what a client is given so that it can fail over. */
  readonly urls: string[];
  node(name: string): NatsTestNode;
  /** Stops every node and removes their data. */
  destroy(): Promise<void>;
}

interface NodePorts {
  client: number;
  monitor: number;
  route: number;
}

/**
 * Starts one nats-server (`nodes = 1`) or a cluster of nodes joined by routes. Each node has its own client,
 * monitoring and route port (free ones) and its JetStream store in a temp dir. A node is ready when its
 * /healthz answers 200, which for a cluster means JetStream has a meta leader: the nodes are started
 * together, since none is healthy alone.
 */
export async function startNats(nodes = 1, binary: string = NATS_SERVER_PATH): Promise<NatsTestCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'citymetrics-nats-'));
  const ports: NodePorts[] = [];
  for (let i = 0; i < nodes; i++)
    ports.push({ client: await freePort(), monitor: await freePort(), route: await freePort() });
  const clusterName = `citymetrics-test-${process.pid}`;
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
      command: binary,
      args: ['-c', configFile],
      readyUrl: `http://127.0.0.1:${p.monitor}/healthz`,
    });
    const node: NatsTestNode = {
      name,
      url: `nats://127.0.0.1:${p.client}`,
      get running() {
        return server.running;
      },
      stop: (signal) => server.stop(signal),
      start: () => server.start(),
    };
    return { node, server };
  });
  const destroy = async () => {
    await Promise.all(made.map((m) => m.server.stop('SIGKILL')));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await Promise.all(made.map((m) => m.server.start()));
  } catch (err) {
    await destroy();
    throw err;
  }
  const list = made.map((m) => m.node);
  return {
    nodes: list,
    urls: list.map((n) => n.url),
    node(name) {
      const found = list.find((n) => n.name === name);
      if (found === undefined) throw new Error(`no nats node ${name}`);
      return found;
    },
    destroy,
  };
}
