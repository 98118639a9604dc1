import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { CityError } from '../../core/errors.ts';
import { HAPROXY_PATH } from './haproxy-server.ts';
import { type LocalCluster, startLocalCluster } from './local-cluster.ts';
import { NATS_SERVER_PATH } from './nats-nodes.ts';
import { POSTGRES_BIN_DIR } from './postgres-server.ts';

const count = (max: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new InvalidArgumentError(`a whole number from 1 to ${max}`);
  return n;
};
const port = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65_535) throw new InvalidArgumentError('a port from 1 to 65535');
  return n;
};

interface ClusterCommandOptions {
  dir: string;
  edges: number;
  writers: number;
  kpis: number;
  apis: number;
  natsNodes: number;
  mqttPort?: number;
  httpPort?: number;
  demo?: boolean;
  demoDevices: number;
}

/** The servers a local cluster needs, each with the Debian package that has it. */
function checkServers(): void {
  const needed = [
    { path: NATS_SERVER_PATH, pkg: 'nats-server' },
    { path: join(POSTGRES_BIN_DIR, 'postgres'), pkg: 'postgresql' },
    { path: HAPROXY_PATH, pkg: 'haproxy' },
  ];
  const missing = needed.filter((s) => !existsSync(s.path));
  if (missing.length > 0)
    throw new CityError(
      'CONFIG_INVALID',
      `the local cluster runs Debian's servers, and ${missing.map((m) => m.path).join(', ')} is missing: apt-get install ${missing.map((m) => m.pkg).join(' ')}`,
    );
}

/** The simulated city, through haproxy like any device: its output goes to `<dir>/simulator.log`. */
function startDemo(cluster: LocalCluster, cliCommand: string[], dir: string, devices: number): ChildProcess {
  const log = createWriteStream(join(dir, 'simulator.log'), { flags: 'a' });
  const child = spawn(
    process.execPath,
    [
      ...cliCommand,
      'simulate',
      '--url',
      cluster.info.mqtt,
      '--api',
      cluster.info.http,
      '--token',
      cluster.info.adminToken,
      '--devices',
      String(devices),
      // as `npm run demo`: thirty times the kinds' real intervals, so the page moves at once
      '--speed',
      '30',
      // kept with the cluster, so a second run reuses the same simulated devices
      '--fleet',
      join(dir, 'simulator-fleet.json'),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  return child;
}

export function registerClusterCommand(program: Command): void {
  program
    .command('cluster')
    .description(
      "a whole cluster on this machine from Debian's packages: 3 NATS JetStream nodes, PostgreSQL, haproxy and each role as its own process; Ctrl-C stops it",
    )
    .option('--dir <path>', 'where its data, logs and cluster.json live (kept between runs)', '.cluster')
    .option('--edges <n>', 'edge processes (MQTT gateway)', count(16), 2)
    .option('--writers <n>', 'writer processes', count(16), 2)
    .option('--kpis <n>', 'kpi processes (one leads, the others stand by)', count(8), 2)
    .option('--apis <n>', 'api processes (REST, live page)', count(16), 2)
    .option('--nats-nodes <n>', 'NATS JetStream nodes', count(5), 3)
    .option('--mqtt-port <port>', "haproxy's MQTT port (default: a free one)", port)
    .option('--http-port <port>', "haproxy's HTTP port (default: a free one)", port)
    .option('--demo', 'add the simulated city, publishing through haproxy')
    .option('--demo-devices <n>', 'devices of the simulated city', count(10_000), 100)
    .action(async (opts: ClusterCommandOptions) => {
      checkServers();
      const dir = resolve(opts.dir);
      // The same entry and loader this process runs with: tsx in a checkout, dist/ when installed.
      const cliCommand = [...process.execArgv, process.argv[1]!];
      const cluster = await startLocalCluster({
        dir,
        counts: { edge: opts.edges, writer: opts.writers, kpi: opts.kpis, api: opts.apis },
        natsNodes: opts.natsNodes,
        ...(opts.mqttPort !== undefined ? { mqttPort: opts.mqttPort } : {}),
        ...(opts.httpPort !== undefined ? { httpPort: opts.httpPort } : {}),
        ...(process.env.ADMIN_TOKEN !== undefined ? { adminToken: process.env.ADMIN_TOKEN } : {}),
        cliCommand,
        env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'info' },
        onProgress: (m) => process.stderr.write(`  ${m}…\n`),
      });
      const { info } = cluster;
      const demo = opts.demo === true ? startDemo(cluster, cliCommand, dir, opts.demoDevices) : null;
      const lines = [
        '',
        '  citymetrics cluster is up',
        `  API and live page (haproxy)  ${info.http}`,
        `  MQTT for devices (haproxy)   ${info.mqtt}`,
        `  api nodes                    ${info.api.join('  ')}`,
        `  haproxy stats                ${info.haproxyStats}`,
        `  PostgreSQL                   ${info.postgresUrl}`,
        `  NATS                         ${info.natsUrls.join(',')}`,
        `  admin API key                ${info.adminToken}`,
        ...info.nodes.map((n) => `  ${n.name.padEnd(28)} pid ${n.pid}  ${n.http}  log ${n.log}`),
        ...(demo !== null ? [`  simulated city               log ${join(dir, 'simulator.log')}`] : []),
        `  all of it as JSON            ${join(dir, 'cluster.json')}`,
        '',
        '  Ctrl-C stops everything.',
        '',
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
      let stopping = false;
      const stop = (signal: NodeJS.Signals) => {
        if (stopping) process.exit(130);
        stopping = true;
        process.stderr.write(`  ${signal}: stopping the cluster…\n`);
        demo?.kill('SIGTERM');
        cluster.stop().then(
          () => {
            process.stderr.write('  stopped; the data stays in the directory for the next run\n');
            process.exit(0);
          },
          (err: unknown) => {
            process.stderr.write(`stop failed: ${String(err)}\n`);
            process.exit(1);
          },
        );
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
}
