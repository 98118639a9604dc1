import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';
import { shareGroupOf } from './config-lorawan.ts';
import { CityError } from './errors.ts';

const DAY = 86_400_000;

function refusal(env: NodeJS.ProcessEnv): CityError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof CityError) return err;
    throw err;
  }
  throw new Error('configuration was accepted');
}

describe('loadConfig retention coherence', () => {
  it('refuses a late window that reaches past raw retention, naming both keys', () => {
    // Accepting it would acknowledge readings the store then drops as expired.
    const err = refusal({ INGEST_LATE_WINDOW_MS: String(10 * DAY), RETENTION_RAW_DAYS: '7' });
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain('INGEST_LATE_WINDOW_MS');
    expect(err.message).toContain('RETENTION_RAW_DAYS');
  });

  it('refuses a late window exactly equal to raw retention', () => {
    const err = refusal({ INGEST_LATE_WINDOW_MS: String(7 * DAY), RETENTION_RAW_DAYS: '7' });
    expect(err.message).toContain('RETENTION_RAW_DAYS');
  });

  it('reports the incoherence together with other bad keys', () => {
    const err = refusal({
      INGEST_LATE_WINDOW_MS: String(10 * DAY),
      RETENTION_RAW_DAYS: '7',
      UNKNOWN_IN_FILE: 'x',
      CONFIG_FILE: '/nonexistent/citymetrics.json',
    });
    expect(err.details).toHaveLength(2);
  });

  it('accepts the defaults and a late window shorter than raw retention', () => {
    expect(loadConfig({}).ingestLateWindowMs).toBeLessThan(loadConfig({}).retentionRawDays * DAY);
    expect(
      loadConfig({ INGEST_LATE_WINDOW_MS: String(6 * DAY), RETENTION_RAW_DAYS: '7' }).retentionRawDays,
    ).toBe(7);
  });
});

describe('loadConfig series store', () => {
  it('refuses STORE=postgres without POSTGRES_URL, naming both', () => {
    const err = refusal({ STORE: 'postgres' });
    expect(err.message).toContain('POSTGRES_URL');
    expect(err.message).toContain('STORE=postgres');
    expect(loadConfig({ STORE: 'postgres', POSTGRES_URL: 'postgres://db/city' }).postgresUrl).toBe(
      'postgres://db/city',
    );
  });
});

describe('loadConfig LoRaWAN share group', () => {
  it('refuses a group that would change the topic filter, and reads off as a plain subscription', () => {
    // `$share/a/b/<topic>` would be group a on the filter b/<topic>: another subscription altogether.
    for (const bad of ['a/b', 'a+', 'a#', 'a b'])
      expect(refusal({ LORAWAN_SHARE_GROUP: bad }).message).toContain('LORAWAN_SHARE_GROUP');
    expect(shareGroupOf(loadConfig({}).lorawanShareGroup)).toBe('citymetrics');
    expect(shareGroupOf(loadConfig({ LORAWAN_SHARE_GROUP: 'edges' }).lorawanShareGroup)).toBe('edges');
    expect(shareGroupOf(loadConfig({ LORAWAN_SHARE_GROUP: 'off' }).lorawanShareGroup)).toBeUndefined();
  });
});
