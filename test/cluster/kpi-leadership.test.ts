import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { AdvisoryLeadership } from '../../cluster/kpi-leadership.ts';
import { silentLogger } from '../../core/logger.ts';
import { type PostgresTestServer, postgresBinDir, startPostgres } from '../servers/postgres.ts';
import { until } from './role-process.ts';

const bin = postgresBinDir();
let pg: PostgresTestServer;

beforeAll(async () => {
  if (bin !== null) pg = await startPostgres(bin);
}, 60_000);
afterAll(async () => {
  await pg?.destroy();
});

/** Every lead and step-down of the nodes of one test, in order. */
type Timeline = Array<{ node: string; what: 'lead' | 'step-down' }>;

/** A node's leadership, writing what it was told to do into the shared timeline. */
function node(url: string, name: string, timeline: Timeline) {
  const leadership = new AdvisoryLeadership(
    {
      url,
      logger: silentLogger(),
      onLead: async () => {
        timeline.push({ node: name, what: 'lead' });
      },
      onStepDown: async () => {
        timeline.push({ node: name, what: 'step-down' });
      },
    },
    { retryMs: 100 },
  );
  onTestFinished(() => leadership.stop());
  return leadership;
}

/** Replays the timeline: a node leads only while no other does, and steps down only while it leads. */
function leadersOverTime(timeline: Timeline): Array<string | null> {
  let current: string | null = null;
  const out: Array<string | null> = [];
  for (const { node: n, what } of timeline) {
    if (what === 'lead') expect(current, `${n} leads while ${current} does`).toBeNull();
    else expect(current, `${n} steps down while ${current} leads`).toBe(n);
    current = what === 'lead' ? n : null;
    out.push(current);
  }
  return out;
}

describe.skipIf(bin === null)('kpi leadership on a PostgreSQL advisory lock', () => {
  it('makes one leader; a leader whose session is killed steps down before anyone leads again', async () => {
    const url = await pg.createDatabase();
    const timeline: Timeline = [];
    const a = node(url, 'a', timeline);
    const b = node(url, 'b', timeline);
    await a.start();
    await b.start();
    expect([a.state, b.state]).toEqual(['leader', 'standby']);
    expect(timeline).toEqual([{ node: 'a', what: 'lead' }]);

    // The process lives but its session is gone (an admin, a failover, a cut network): the server released
    // the lock, so the old leader must stop computing before any node (itself included) leads again.
    await pg.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'citymetrics-kpi-leader' AND pid IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted)",
    );
    await until('a new lead', () => timeline.length >= 3);
    expect(timeline[1]).toEqual({ node: 'a', what: 'step-down' });
    leadersOverTime(timeline);
    const leader = a.state === 'leader' ? a : b;
    const other = leader === a ? b : a;
    expect(other.state).toBe('standby');

    // The leader stops: the standby (reconnected if it was the one cut) leads.
    await until('the standby to hold its lock session', () => other.connected);
    await leader.stop();
    await until('the standby to lead', () => other.state === 'leader');
    expect(leadersOverTime(timeline).at(-1)).toBe(other === a ? 'a' : 'b');
  }, 60_000);

  it('releases the lock when the leader cannot start, and fails its start when PostgreSQL is unreachable', async () => {
    const url = await pg.createDatabase();
    let tries = 0;
    const failing = new AdvisoryLeadership(
      {
        url,
        logger: silentLogger(),
        onLead: async () => {
          tries++;
          throw new Error('kpi.db damaged');
        },
        onStepDown: async () => {},
      },
      { retryMs: 100 },
    );
    onTestFinished(() => failing.stop());
    await failing.start();
    expect(failing.state).toBe('standby');
    const other = node(url, 'other', []);
    await other.start();
    await until('the other node to lead', () => other.state === 'leader');
    expect(tries).toBeGreaterThanOrEqual(1);

    const unreachable = new AdvisoryLeadership(
      {
        url: 'postgres://postgres@127.0.0.1:1/none',
        logger: silentLogger(),
        onLead: async () => {},
        onStepDown: async () => {},
      },
      { retryMs: 100 },
    );
    await expect(unreachable.start()).rejects.toMatchObject({ code: 'INGEST_STORE_UNAVAILABLE' });
    await unreachable.stop();
  }, 60_000);
});
