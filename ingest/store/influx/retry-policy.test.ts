import { describe, expect, it } from 'vitest';
import { CityError } from '../../../core/errors.ts';
import { resolveInfluxOptions } from './influx-options.ts';
import { isRetryableStatus, RetryPolicy, WriteAttemptError } from './retry-policy.ts';

const settings = {
  maxRetries: 3,
  maxRetryTimeMs: 10_000,
  minRetryDelayMs: 100,
  maxRetryDelayMs: 1_000,
  exponentialBase: 2,
  retryJitterMs: 50,
};

describe('RetryPolicy', () => {
  it('backs off exponentially up to the cap, plus jitter, and honours Retry-After', () => {
    const p = new RetryPolicy(settings, () => 0.5);
    expect([1, 2, 3, 4, 5, 6].map((n) => p.delay(n))).toEqual([125, 225, 425, 825, 1025, 1025]);
    expect(p.delay(1, 3_000)).toBe(3_025);
  });

  it('retries retryable errors within the attempt count and the deadline only', () => {
    const p = new RetryPolicy(settings, () => 0);
    const net = new WriteAttemptError('refused', true, undefined);
    const bad = new WriteAttemptError('400', false, 400);
    expect(p.shouldRetry(net, 1, 0, 100)).toBe(true);
    expect(p.shouldRetry(net, 3, 0, 100)).toBe(true);
    expect(p.shouldRetry(net, 4, 0, 100)).toBe(false);
    expect(p.shouldRetry(net, 1, 0, 10_000)).toBe(false);
    expect(p.shouldRetry(bad, 1, 0, 100)).toBe(false);
  });

  it('classifies HTTP statuses as the InfluxDB client does', () => {
    expect([400, 401, 404, 413, 422, 429, 500, 503].map(isRetryableStatus)).toEqual([
      false,
      false,
      false,
      false,
      false,
      true,
      true,
      true,
    ]);
  });
});

describe('resolveInfluxOptions', () => {
  const base = { url: 'http://127.0.0.1:8086', writeTransport: 'v1', indexFile: '/tmp/x.db' } as const;

  it('applies defaults and freezes', () => {
    const o = resolveInfluxOptions(base);
    expect(o).toMatchObject({
      database: 'citymetrics',
      batchSize: 5_000,
      maxRetries: 5,
      deleteOnPrune: false,
    });
    expect(Object.isFrozen(o)).toBe(true);
  });

  it('reports every bad key at once with CONFIG_INVALID', () => {
    const err = (() => {
      try {
        resolveInfluxOptions({ ...base, url: 'not a url', batchSize: 0, bogus: 1 } as never);
      } catch (e) {
        return e;
      }
    })() as CityError;
    expect(err).toBeInstanceOf(CityError);
    expect(err.code).toBe('CONFIG_INVALID');
    expect((err.details as string[]).length).toBe(3);
  });

  it('refuses a retry buffer smaller than a batch and a token together with a user', () => {
    expect(() => resolveInfluxOptions({ ...base, batchSize: 100, maxBufferLines: 10 })).toThrow(
      /maxBufferLines/,
    );
    expect(() => resolveInfluxOptions({ ...base, token: 't', username: 'u' })).toThrow(/not both/);
  });
});
