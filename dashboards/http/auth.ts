import type { Request, RequestHandler } from 'express';
import { ipKeyGenerator } from 'express-rate-limit';
import type { Clock } from '../../core/clock.ts';
import { CityError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { ApiKeyStore } from './api-key-store.ts';
import { type Principal, type Role, roleAtLeast } from './roles.ts';

/**
 * Counts failed authentications per client address in fixed windows; past the limit the address gets 429
 * API_RATE_LIMITED until its window ends, valid key or not (a guessed key must not be confirmed).
 *
 * Only failures are counted, when they happen. express-rate-limit's own middleware with
 * `skipSuccessfulRequests` counts every request when it starts and gives successes back when they finish,
 * so a client with many requests in flight would be refused although none failed; its `ipKeyGenerator`
 * is used for the address key (IPv6 grouped by /56, so one host cannot rotate through its prefix).
 * Bounded: past `maxTracked` addresses the oldest entry is dropped.
 */
export class AuthFailureLimiter {
  private readonly entries = new Map<string, { failures: number; resetAt: number }>();

  constructor(
    private readonly options: { limit: number; windowMs: number; clock: Clock; maxTracked?: number },
  ) {}

  /** Seconds until the address may try again, or 0 when it is not blocked. */
  retryAfterSec(key: string): number {
    const entry = this.entries.get(key);
    if (!entry) return 0;
    const now = this.options.clock.now();
    if (entry.resetAt <= now) {
      this.entries.delete(key);
      return 0;
    }
    return entry.failures >= this.options.limit ? Math.ceil((entry.resetAt - now) / 1000) : 0;
  }

  fail(key: string): void {
    const now = this.options.clock.now();
    const entry = this.entries.get(key);
    if (entry && entry.resetAt > now) {
      entry.failures++;
      return;
    }
    this.entries.delete(key);
    this.entries.set(key, { failures: 1, resetAt: now + this.options.windowMs });
    if (this.entries.size > (this.options.maxTracked ?? 10_000)) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }
}

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
      const key = clientKey(req.ip);
      const retryAfter = deps.limiter.retryAfterSec(key);
      if (retryAfter > 0) {
        res.set('Retry-After', String(retryAfter));
        throw new CityError(
          'API_RATE_LIMITED',
          'too many failed authentications from this address, retry later',
        );
      }
      const token = bearerToken(req);
      const principal: Principal | null = token === undefined ? null : await deps.apiKeys.authenticate(token);
      if (!principal) {
        deps.limiter.fail(key);
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
