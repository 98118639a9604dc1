import { createHash } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { ipKeyGenerator } from 'express-rate-limit';
import type { Clock } from '../../core/clock.ts';
import { CityError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { ApiKeyStore } from './api-key-store.ts';
import { type Principal, type Role, roleAtLeast } from './roles.ts';

/**
 * Counts failed authentications in fixed windows, two ways:
 * - per presented key: the same wrong key sent again and again (a dashboard left with a revoked key) is
 *   refused with 429 once it reaches the limit, and blocks nothing else;
 * - per client address, counting distinct wrong keys: guessing is trying many keys, so an address that
 *   has presented `limit` different wrong keys gets 429 API_RATE_LIMITED for every key until its window
 *   ends, valid ones too (a guessed key must not be confirmed).
 * A stale key retried forever behind a reverse proxy therefore never locks out the proxy's other users;
 * guessing still does, unless the proxy is listed in TRUSTED_PROXIES so that the address is the client's.
 *
 * Only failures are counted, when they happen. express-rate-limit's own middleware with
 * `skipSuccessfulRequests` counts every request when it starts and gives successes back when they finish,
 * so a client with many requests in flight would be refused although none failed; its `ipKeyGenerator`
 * is used for the address key (IPv6 grouped by /56, so one host cannot rotate through its prefix).
 * Bounded: past `maxTracked` entries of either kind the oldest is dropped; an address remembers at most
 * `limit` distinct keys, as hashes.
 */
export class AuthFailureLimiter {
  private readonly addresses = new Map<string, { keys: Set<string>; resetAt: number }>();
  private readonly keys = new Map<string, { failures: number; resetAt: number }>();

  constructor(
    private readonly options: { limit: number; windowMs: number; clock: Clock; maxTracked?: number },
  ) {}

  /** Seconds until this address may try this key again, or 0 when neither is blocked. */
  retryAfterSec(address: string, presented: string | undefined): number {
    const now = this.options.clock.now();
    const { limit } = this.options;
    const byAddress = live(this.addresses, address, now);
    // No key is no guess: it is never blocked as a key, only counted once for the address.
    const byKey = presented === undefined ? undefined : live(this.keys, keyHash(presented), now);
    const wait = (resetAt: number) => Math.ceil((resetAt - now) / 1000);
    return Math.max(
      byAddress !== undefined && byAddress.keys.size >= limit ? wait(byAddress.resetAt) : 0,
      byKey !== undefined && byKey.failures >= limit ? wait(byKey.resetAt) : 0,
    );
  }

  fail(address: string, presented: string | undefined): void {
    const now = this.options.clock.now();
    const hash = keyHash(presented);
    if (presented !== undefined) {
      const byKey = live(this.keys, hash, now);
      if (byKey !== undefined) byKey.failures++;
      else this.track(this.keys, hash, { failures: 1, resetAt: now + this.options.windowMs });
    }
    const byAddress = live(this.addresses, address, now);
    if (byAddress === undefined)
      this.track(this.addresses, address, { keys: new Set([hash]), resetAt: now + this.options.windowMs });
    else if (byAddress.keys.size < this.options.limit) byAddress.keys.add(hash);
  }

  private track<V>(map: Map<string, V>, key: string, value: V): void {
    map.set(key, value);
    if (map.size > (this.options.maxTracked ?? 10_000)) {
      const oldest = map.keys().next().value;
      if (oldest !== undefined) map.delete(oldest);
    }
  }
}

/** The entry while its window lasts; an ended window is forgotten. */
function live<V extends { resetAt: number }>(map: Map<string, V>, key: string, now: number): V | undefined {
  const entry = map.get(key);
  if (entry !== undefined && entry.resetAt <= now) {
    map.delete(key);
    return undefined;
  }
  return entry;
}

/** Wrong keys are remembered by a short hash, never as sent; a missing key is one key of its own for an address. */
const keyHash = (presented: string | undefined): string =>
  presented === undefined ? '' : createHash('sha256').update(presented).digest('base64url').slice(0, 22);

export const clientKey = (ip: string | undefined): string => ipKeyGenerator(ip ?? 'unknown');

const BEARER = /^Bearer[ \t]+([^\s]+)[ \t]*$/i;

export function bearerToken(req: Request): string | undefined {
  const header = req.get('authorization');
  return header === undefined ? undefined : BEARER.exec(header)?.[1];
}

export interface AuthDeps {
  apiKeys: ApiKeyStore;
  limiter: AuthFailureLimiter;
  logger: Logger;
}

/**
 * `requireRole(role)`: resolves `Authorization: Bearer <key>`; no key or a bad one → 401 API_UNAUTHENTICATED
 * (counted), a role below `role` → 403 API_FORBIDDEN. Sets `res.locals.principal`.
 */
export function createRequireRole(deps: AuthDeps): (role: Role) => RequestHandler {
  return (role) =>
    async function requireRole(req, res, next) {
      const address = clientKey(req.ip);
      const token = bearerToken(req);
      const retryAfter = deps.limiter.retryAfterSec(address, token);
      if (retryAfter > 0) {
        res.set('Retry-After', String(retryAfter));
        throw new CityError(
          'API_RATE_LIMITED',
          'too many failed authentications from this address or with this key, retry later',
        );
      }
      const principal: Principal | null = token === undefined ? null : await deps.apiKeys.authenticate(token);
      if (!principal) {
        deps.limiter.fail(address, token);
        res.set('WWW-Authenticate', 'Bearer realm="citymetrics"');
        throw new CityError(
          'API_UNAUTHENTICATED',
          token === undefined ? 'send an API key as "Authorization: Bearer <key>"' : undefined,
        );
      }
      if (!roleAtLeast(principal.role, role)) {
        throw new CityError('API_FORBIDDEN', `this needs role ${role}; the key has ${principal.role}`);
      }
      res.locals.principal = principal;
      next();
    };
}
