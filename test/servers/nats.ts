import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NATS_SERVER_PATH, type NatsNode, startNatsNodes } from '../../cluster/local/nats-nodes.ts';
import { findServerBinary } from './process-server.ts';

export { NATS_SERVER_PATH };

/** The binary, or null (the caller skips) when nats-server is not installed; under CI a missing binary throws. */
export const natsServerBinary = (): string | null => findServerBinary(NATS_SERVER_PATH, 'nats-server');

/** One real nats-server with JetStream on file storage, on 127.0.0.1. */
export type NatsTestNode = NatsNode;

export interface NatsTestCluster {
  readonly nodes: readonly NatsTestNode[];
  /** Every node's client URL: what a client is given so that it can fail over. */
  readonly urls: string[];
  node(name: string): NatsTestNode;
  /** Stops every node and removes their data. */
  destroy(): Promise<void>;
}

/**
 * Starts one nats-server (`nodes = 1`) or a cluster of nodes joined by routes, in a temp dir removed by
 * destroy() (cluster/local/nats-nodes.ts).
 */
export async function startNats(nodes = 1, binary: string = NATS_SERVER_PATH): Promise<NatsTestCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'citymetrics-nats-'));
  let list: NatsNode[];
  try {
    list = await startNatsNodes({ dir, nodes, binary, clusterName: `citymetrics-test-${process.pid}` });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    nodes: list,
    urls: list.map((n) => n.url),
    node(name) {
      const found = list.find((n) => n.name === name);
      if (found === undefined) throw new Error(`no nats node ${name}`);
      return found;
    },
    async destroy() {
      await Promise.all(list.map((n) => n.stop('SIGKILL')));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
