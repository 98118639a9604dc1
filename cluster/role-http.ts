import type { RequestListener } from 'node:http';
import type { Telemetry } from '../core/telemetry.ts';

/** What a role's /readyz answers: the checks it waits for and, per role, what it is doing. */
export interface RoleReadiness {
  ready: boolean;
  roles: string[];
  checks: Record<string, boolean>;
  failing: string[];
  /** Checks that fail without making the process unready (an edge without PostgreSQL serves from cache). */
  degraded?: string[];
  /** Present with the kpi role: only the leader computes and closes months. */
  kpi?: { state: 'leader' | 'standby' | 'stopped'; detail: string | null };
  writer?: unknown;
  edge?: {
    connectedDevices: number;
    pendingPublishes: number;
    /** Publishes JetStream recognised as resends by message id (acknowledged, not logged twice). */
    duplicates: number;
    /** With a LoRaWAN bridge configured: each bridge, connected to its network server's broker or not. */
    lorawan?: Array<{
      server: string;
      connected: boolean;
      subscribed: boolean;
      uplinks: number;
      retried: number;
    }>;
  };
  /** With the api or kpi role: the relay of other nodes' messages to this node's live events. */
  liveRelay?: { pending: number; pendingBytes: number; relayed: number; dropped: number; slow: boolean };
}

/**
 * The HTTP handler of a cluster process: /readyz (every role's checks, 503 while one fails) in front of the
 * api's express app when the process has the api role; otherwise /healthz, /readyz and /metrics alone.
 */
export function roleHttpHandler(deps: {
  readiness: () => RoleReadiness;
  telemetry: Telemetry;
  app: RequestListener | null;
}): RequestListener {
  const json = (res: Parameters<RequestListener>[1], status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  };
  return function roleRequest(req, res) {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/readyz') {
      const r = deps.readiness();
      json(res, r.ready ? 200 : 503, r);
      return;
    }
    if (deps.app !== null) {
      deps.app(req, res);
      return;
    }
    if (req.method === 'GET' && path === '/healthz') {
      json(res, 200, { ok: true });
      return;
    }
    if (req.method === 'GET' && path === '/metrics') {
      const registry = deps.telemetry.registry;
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(text);
        },
        () => json(res, 500, { error: { code: 'API_INTERNAL', message: 'metrics unavailable' } }),
      );
      return;
    }
    json(res, 404, {
      error: { code: 'API_NOT_FOUND', message: 'this node serves /healthz, /readyz, /metrics' },
    });
  };
}
