import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.ts';
import { CityError } from '../../core/errors.ts';
import { JETSTREAM_LOG_DEFAULTS } from '../../ingest/cluster/log-options.ts';

const problemsOf = (env: Record<string, string>): string[] => {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(CityError);
    expect((err as CityError).code).toBe('CONFIG_INVALID');
    return (err as CityError).details as string[];
  }
  return [];
};

describe('cluster configuration', () => {
  it('keeps the single process as it is when no role is named', () => {
    const c = loadConfig({});
    expect(c.roles).toBe('');
    expect(c.natsUrl).toBeUndefined();
    expect(problemsOf({ STORE: 'sqlite' })).toEqual([]);
  });

  it('has the JetStream log defaults of ingest/cluster/log-options.ts', () => {
    const c = loadConfig({});
    expect({
      stream: c.jetstreamStream,
      subjectPrefix: c.jetstreamSubjectPrefix,
      shards: c.jetstreamShards,
      replicas: c.jetstreamReplicas,
      duplicateWindowMs: c.jetstreamDuplicateWindowMs,
      maxAgeMs: c.jetstreamMaxAgeMs,
    }).toEqual(JETSTREAM_LOG_DEFAULTS);
  });

  it('requires NATS_URL and POSTGRES_URL with any role, naming each key and its fix at once', () => {
    const problems = problemsOf({ ROLES: 'edge' });
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^NATS_URL is required with ROLES=edge: set it/);
    expect(problems[1]).toMatch(/^POSTGRES_URL is required with ROLES=edge/);
  });

  it('refuses embedded SQLite for the roles that share the series store, not for the edge', () => {
    const base = { NATS_URL: 'nats://n1:4222,nats://n2:4222', POSTGRES_URL: 'postgres://u@h/db' };
    expect(problemsOf({ ...base, ROLES: 'edge' })).toEqual([]);
    const problems = problemsOf({ ...base, ROLES: 'edge,writer,api' });
    expect(problems).toEqual([
      'STORE=sqlite cannot be shared by the writer, api role(s): set STORE=postgres (with POSTGRES_URL) or STORE=influxdb',
    ]);
    expect(problemsOf({ ...base, ROLES: 'writer,kpi,api', STORE: 'postgres' })).toEqual([]);
    expect(problemsOf({ ...base, ROLES: 'writer', STORE: 'influxdb' })).toEqual([]);
  });

  it('refuses unknown roles, bad NATS URLs and writer shards beyond the stream', () => {
    expect(problemsOf({ ROLES: 'edge,broker' })).toEqual([
      'ROLES: expected a comma-separated list of edge, writer, kpi, api',
    ]);
    const problems = problemsOf({
      ROLES: 'writer',
      STORE: 'postgres',
      POSTGRES_URL: 'postgres://u@h/db',
      NATS_URL: 'nats://ok:4222',
      JETSTREAM_SHARDS: '4',
      WRITER_SHARDS: '1,4,9',
    });
    expect(problems).toEqual([
      'WRITER_SHARDS 4,9 not in 0..3 (JETSTREAM_SHARDS=4): name shards below JETSTREAM_SHARDS',
    ]);
    expect(problemsOf({ NATS_URL: 'http://x y' })).toEqual([
      'NATS_URL: expected comma-separated nats://host:port URLs',
    ]);
  });
});
