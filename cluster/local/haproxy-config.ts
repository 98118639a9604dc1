/**
 * haproxy in front of the cluster: MQTT (TCP) to the edges, HTTP (REST, live page, WebSocket) to the api
 * nodes, each backend server health-checked on its node's /readyz, so that a node that stops being ready
 * (lost NATS or PostgreSQL, stopping) gets no new connection, and a dead edge's sessions are cut at once:
 * its devices reconnect through haproxy to a live one.
 */

export interface HaproxyNode {
  name: string;
  host: string;
  /** the port traffic goes to (MQTT for an edge, HTTP for an api node) */
  port: number;
  /** the port of its /readyz (an edge's HTTP_PORT; an api node's own port) */
  checkPort: number;
}

export interface HaproxySpec {
  /** where haproxy listens: `127.0.0.1` locally, `*` in a container */
  bind: string;
  mqttPort: number;
  httpPort: number;
  /** haproxy's own /healthz and /stats */
  statsPort: number;
  edges: readonly HaproxyNode[];
  apis: readonly HaproxyNode[];
  /**
   * connections at once (every device holds one): haproxy needs two file descriptors per connection, so
   * the process's limit (`ulimit -n`) must be above twice this
   */
  maxconn?: number;
  /**
   * A DNS server to resolve node names with while running (Docker's is 127.0.0.11:53): a node that is not
   * up yet, or comes back with another address, does not stop haproxy from starting or reaching it.
   */
  dnsResolver?: string;
}

/** How often a node is checked, and after how many answers it changes state: out within about 2 s. */
const CHECK = 'check inter 1s fall 2 rise 2';

export function haproxyConfig(spec: HaproxySpec): string {
  const dns = spec.dnsResolver === undefined ? '' : ' resolvers dns init-addr last,libc,none';
  const lines = [
    '# The citymetrics cluster behind one address per protocol.',
    'global',
    `  maxconn ${spec.maxconn ?? 8_000}`,
    '',
    ...(spec.dnsResolver === undefined
      ? []
      : ['resolvers dns', `  nameserver dns1 ${spec.dnsResolver}`, '  hold valid 10s', '']),
    'defaults',
    '  timeout connect 5s',
    // A connection refused by a node that just died goes to another one rather than back to the device.
    '  retries 3',
    '  option redispatch',
    // MQTT keep-alive pings and the live page's WebSocket keep a session open for hours: the idle limits
    // only cut what has gone silent past any keep-alive the devices use.
    '  timeout client 1h',
    '  timeout server 1h',
    '  timeout tunnel 1h',
    '  timeout check 2s',
    '',
    'frontend stats',
    `  bind ${spec.bind}:${spec.statsPort}`,
    '  mode http',
    '  monitor-uri /healthz',
    '  stats enable',
    '  stats uri /stats',
    '  stats refresh 5s',
    '',
    'frontend mqtt',
    `  bind ${spec.bind}:${spec.mqttPort}`,
    '  mode tcp',
    '  default_backend edges',
    '',
    'backend edges',
    '  mode tcp',
    // A reconnecting fleet spreads over the edges that are up, not in the order it reconnects.
    '  balance leastconn',
    '  option httpchk GET /readyz',
    '  http-check expect status 200',
    // A dead or unready edge's sessions are closed: its devices reconnect through haproxy to a live edge.
    `  default-server on-marked-down shutdown-sessions${dns}`,
    ...spec.edges.map((e) => `  server ${e.name} ${e.host}:${e.port} ${CHECK} port ${e.checkPort}`),
    '',
    'frontend api',
    `  bind ${spec.bind}:${spec.httpPort}`,
    '  mode http',
    '  option forwardfor',
    '  default_backend apis',
    '',
    'backend apis',
    '  mode http',
    '  balance roundrobin',
    // socket.io's long-polling handshake must come back to the node that opened it.
    '  cookie CM_API insert indirect nocache httponly',
    ...(dns === '' ? [] : [`  default-server${dns}`]),
    '  option httpchk GET /readyz',
    '  http-check expect status 200',
    ...spec.apis.map(
      (a) => `  server ${a.name} ${a.host}:${a.port} ${CHECK} port ${a.checkPort} cookie ${a.name}`,
    ),
    '',
  ];
  return lines.join('\n');
}

/** The nodes of docker-compose.cluster.yml, by their service names: what `cluster/deploy/haproxy.cfg` holds. */
export const COMPOSE_HAPROXY: HaproxySpec = {
  bind: '*',
  mqttPort: 1883,
  httpPort: 3000,
  statsPort: 8404,
  maxconn: 50_000,
  dnsResolver: '127.0.0.11:53',
  edges: [1, 2].map((i) => ({ name: `edge-${i}`, host: `edge-${i}`, port: 1883, checkPort: 3000 })),
  apis: [1, 2].map((i) => ({ name: `api-${i}`, host: `api-${i}`, port: 3000, checkPort: 3000 })),
};
