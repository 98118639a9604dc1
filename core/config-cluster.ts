import { z } from 'zod';

const positiveInt = z.coerce.number().int().positive();

/** The roles one process may take in cluster mode (docs/cluster.md, "Roles"). */
export const CLUSTER_ROLES = ['edge', 'writer', 'kpi', 'api'] as const;
export type ClusterRole = (typeof CLUSTER_ROLES)[number];

/** `edge,writer` → ['edge', 'writer']: trimmed, empty entries dropped, each once, in the given order. */
export const roleList = (list: string): string[] => [
  ...new Set(
    list
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
  ),
];

const isRoleList = (list: string): boolean =>
  roleList(list).every((r) => (CLUSTER_ROLES as readonly string[]).includes(r));

const isNatsUrlList = (list: string): boolean =>
  roleList(list).every((u) => /^(nats|tls|ws|wss):\/\/[^\s/]+\/?$/.test(u) || /^[^\s/:]+:\d+$/.test(u));

/**
 * Cluster-mode keys, spread into configSchema (environment names follow its rule: `natsUrl` ← NATS_URL).
 * Read only when ROLES (or `start --roles`) names a role. The JetStream defaults are those of
 * ingest/cluster/log-options.ts (a test holds them equal); that file validates them again.
 */
export const clusterConfigShape = {
  roles: z
    .string()
    .default('')
    .refine(isRoleList, `expected a comma-separated list of ${CLUSTER_ROLES.join(', ')}`)
    .describe(
      'cluster mode: comma-separated roles of this process (edge, writer, kpi, api); empty = everything in one process on embedded storage',
    ),
  natsUrl: z
    .string()
    .optional()
    .refine((v) => v === undefined || isNatsUrlList(v), 'expected comma-separated nats://host:port URLs')
    .describe(
      'cluster mode: NATS servers, comma-separated (nats://host:4222,...), with the credentials the servers require (nats://user:password@host:4222, URL-encoded); the client fails over',
    ),
  jetstreamStream: z
    .string()
    .default('CITYMETRICS_READINGS')
    .describe('cluster mode: JetStream stream of the readings log'),
  jetstreamSubjectPrefix: z
    .string()
    .default('citymetrics')
    .describe('cluster mode: first subject token (<prefix>.readings.<shard>)'),
  jetstreamShards: positiveInt
    .default(16)
    .describe('cluster mode: shards of the readings log (same on every node)'),
  jetstreamReplicas: positiveInt
    .default(3)
    .describe('cluster mode: copies per message in the JetStream cluster (1 for a single server)'),
  jetstreamDuplicateWindowMs: positiveInt
    .default(120_000)
    .describe('cluster mode: how long JetStream drops a resent message id'),
  jetstreamMaxAgeMs: positiveInt
    .default(7 * 86_400_000)
    .describe('cluster mode: messages stay this long in the stream (replay horizon)'),
  edgePublishTimeoutMs: positiveInt
    .default(5_000)
    .describe(
      'edge: a publish not acknowledged by JetStream within this is refused (no PUBACK, the device resends)',
    ),
  writerConsumer: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only')
    .default('citymetrics-writer')
    .describe('writer: durable consumer name; writers with the same name share the work'),
  writerShards: z
    .string()
    .default('')
    .refine((v) => roleList(v).every((s) => /^\d+$/.test(s)), 'expected comma-separated shard numbers')
    .describe('writer: shards this writer reads, comma-separated; empty = all'),
  kpiLeaderRetryMs: positiveInt
    .default(2_000)
    .describe('kpi: a standby tries to take the leader lock this often'),
  adminTokenReplace: z
    .union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')])
    .default(false)
    .describe(
      "api: let this node's ADMIN_TOKEN replace the admin key the cluster holds (a rotation); otherwise a different one is refused at start",
    ),
};
