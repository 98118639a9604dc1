import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { io } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { topicFor } from '../../core/topics.ts';
import { makeTempDir } from '../helpers/temp-dir.ts';
import { type NatsTestCluster, natsServerBinary, startNats } from '../servers/nats.ts';
import { type PostgresTestServer, postgresBinDir, startPostgres } from '../servers/postgres.ts';
import { type RoleProcess, roleProcess, until } from './role-process.ts';

/**
 * The roles as separate processes started through the CLI (`start --roles`), on a real nats-server and a
 * real PostgreSQL: what a device gets acknowledged by an edge is readable through an api node, a device
 * disabled through the api is cut by the edge, NATS going away stops acknowledgements, one kpi node leads.
 */

const natsBinary = natsServerBinary();
const pgBin = postgresBinDir();
let nats: NatsTestCluster;
let pg: PostgresTestServer;
let made = 0;
const running: RoleProcess[] = [];

beforeAll(async () => {
  if (natsBinary === null || pgBin === null) return;
  nats = await startNats(1, natsBinary);
  pg = await startPostgres(pgBin);
}, 60_000);
afterEach(async () => {
  for (const r of running.splice(0)) {
    await r.proc.kill('SIGKILL');
    r.dir.remove();
  }
});
afterAll(async () => {
  await nats?.destroy();
  await pg?.destroy();
});

async function clusterEnv(extra: Record<string, string> = {}): Promise<Record<string, string>> {
  const n = `${process.pid}_${++made}`;
  return {
    NATS_URL: nats.urls.join(','),
    POSTGRES_URL: await pg.createDatabase(),
    STORE: 'postgres',
    JETSTREAM_STREAM: `ROLES_${n}`,
    JETSTREAM_SUBJECT_PREFIX: `roles${n}`,
    JETSTREAM_SHARDS: '4',
    JETSTREAM_REPLICAS: '1',
    EDGE_PUBLISH_TIMEOUT_MS: '1000',
    ...extra,
  };
}

async function start(roles: string, env: Record<string, string>): Promise<RoleProcess> {
  const r = await roleProcess(roles, env);
  running.push(r);
  await r.proc.start();
  return r;
}

const MINUTE = 60_000;
const payload = (ts: number, value: number) => JSON.stringify({ ts, values: { pm25: value } });

function connectDevice(url: string, id: string, password: string): Promise<MqttClient> {
  const client = mqtt.connect(url, { clientId: `${id}-c`, username: id, password, reconnectPeriod: 200 });
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
  });
}

/** Connects as soon as the edge knows the device (it hears of new devices from PostgreSQL). */
async function loginOnceKnown(url: string, id: string, password: string): Promise<MqttClient> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await connectDevice(url, id, password);
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

const publish = (client: MqttClient, topic: string, body: string): Promise<void> =>
  new Promise((resolve, reject) =>
    client.publish(topic, body, { qos: 1 }, (err) => (err ? reject(err) : resolve())),
  );

describe.skipIf(natsBinary === null || pgBin === null)('cluster roles through the CLI', () => {
  it('edge, writer and api processes: every PUBACKed reading is readable, a disabled device is cut, NATS down stops the PUBACKs', async () => {
    const env = await clusterEnv();
    const api = await start('api', env);
    const writer = await start('writer', env);
    const edge = await start('edge', env);
    expect((await edge.readyz()).body).toMatchObject({ ready: true, roles: ['edge'] });
    expect((await writer.readyz()).body.checks).toMatchObject({ nats: true, postgres: true, writer: true });

    const provision = async () => {
      const res = await api.proc.api<{ id: string; password: string }>('POST', '/api/devices', {
        installedAt: new Date(Date.now() - 7 * 86_400_000).toISOString(), // readings go back as far as the late window
        kind: 'air-quality-station',
        district: 'D1',
      });
      expect(res.status).toBe(201);
      return res.body;
    };
    const first = await provision();
    const second = await provision();
    // Provisioned on the api node: the edge learns of it through PostgreSQL's change feed.
    const client = await loginOnceKnown(edge.proc.mqttUrl, first.id, first.password);
    const now = Date.now();
    const n = 30;
    const acked: number[] = [];
    for (let i = 1; i <= n; i++) {
      await publish(client, topicFor(first.id, 'telemetry'), payload(now - i * MINUTE, i));
      acked.push(now - i * MINUTE);
    }
    const from = new Date(now - (n + 1) * MINUTE).toISOString();
    const to = new Date(now + MINUTE).toISOString();
    const stored = async (device: string) => {
      const res = await api.proc.api<{ points: Array<{ count: number }> }>(
        'GET',
        `/api/series?device=${device}&metric=pm25&from=${from}&to=${to}&step=minute`,
      );
      return res.body.points.reduce((sum, p) => sum + p.count, 0);
    };
    await until(`${n} readings through the api`, async () => (await stored(first.id)) >= n);
    expect(await stored(first.id)).toBe(acked.length);
    // A device event goes the same way: the writer stores it in PostgreSQL, once though sent twice.
    const ev = JSON.stringify({ ts: now - MINUTE, type: 'calibration' });
    await publish(client, topicFor(first.id, 'events'), ev);
    await publish(client, topicFor(first.id, 'events'), ev);
    const events = async () =>
      (await pg.query(`SELECT device_id, type FROM device_events`, env.POSTGRES_URL)).rows as unknown[];
    await until('the event stored', async () => (await events()).length > 0);
    expect(await events()).toEqual([{ device_id: first.id, type: 'calibration' }]);

    // Disabled through the api: the edge closes the device's session and refuses its next login.
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.options.reconnectPeriod = 0;
    expect((await api.proc.api('POST', `/api/devices/${first.id}/disable`)).status).toBe(200);
    await closed;
    client.end(true);
    await expect(connectDevice(edge.proc.mqttUrl, first.id, first.password)).rejects.toThrow();

    // NATS stops: the edge says so and acknowledges nothing; the device keeps its message and resends.
    const device = await connectDevice(edge.proc.mqttUrl, second.id, second.password);
    await nats.nodes[0]!.stop('SIGTERM');
    await until('the edge to report NATS down', async () => {
      const r = await edge.readyz();
      return r.status === 503 && r.body.checks.nats === false && r.body.failing.includes('nats');
    });
    let pubacked = false;
    const sent = publish(device, topicFor(second.id, 'telemetry'), payload(now - MINUTE, 7)).then(() => {
      pubacked = true;
    });
    const refusals = '{reason="INGEST_LOG_UNAVAILABLE"}';
    await until(
      'the edge to refuse the reading',
      async () => (await edge.metric('citymetrics_messages_refused_total', refusals)) > 0,
    );
    expect(pubacked).toBe(false);
    await nats.nodes[0]!.start();
    await sent;
    expect(pubacked).toBe(true);
    await until('the edge ready again', async () => (await edge.readyz()).status === 200);
    await until('the resent reading through the api', async () => (await stored(second.id)) === 1);
    device.end(true);
  }, 180_000);

  it('a password rotated or a device disabled through one api node cuts its sessions on every edge', async () => {
    const env = await clusterEnv({ ADMIN_TOKEN: `cluster-admin-${'t'.repeat(24)}` });
    const [api1, api2] = [await start('api', env), await start('api', env)];
    const edges = [await start('edge', env), await start('edge', env)];
    const made = await api1.proc.api<{ id: string; password: string }>('POST', '/api/devices', {
      kind: 'air-quality-station',
      district: 'D1',
    });
    expect(made.status).toBe(201);
    const { id } = made.body;
    const session = (edge: RoleProcess, n: number, password: string) =>
      new Promise<MqttClient>((resolve, reject) => {
        const c = mqtt.connect(edge.proc.mqttUrl, {
          clientId: `${id}-${n}`,
          username: id,
          password,
          reconnectPeriod: 0,
        });
        c.once('connect', () => resolve(c));
        c.once('error', (err) => {
          c.end(true);
          reject(err);
        });
      });
    const sessionOnceKnown = async (edge: RoleProcess, n: number, password: string) => {
      const deadline = Date.now() + 30_000;
      for (;;) {
        try {
          return await session(edge, n, password);
        } catch (err) {
          if (Date.now() > deadline) throw err;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    };
    const closed = (c: MqttClient) => new Promise<void>((resolve) => c.once('close', () => resolve()));
    // One session on each edge.
    let sessions = [
      await sessionOnceKnown(edges[0]!, 1, made.body.password),
      await sessionOnceKnown(edges[1]!, 2, made.body.password),
    ];
    let cut = Promise.all(sessions.map(closed));
    const rotated = await api2.proc.api<{ password: string }>('POST', `/api/devices/${id}/rotate-password`);
    expect(rotated.status).toBe(200);
    await cut;
    for (const [n, edge] of edges.entries())
      await expect(
        session(edge, n + 1, made.body.password),
        `old password on edge ${n + 1}`,
      ).rejects.toThrow();
    sessions = [
      await sessionOnceKnown(edges[0]!, 1, rotated.body.password),
      await sessionOnceKnown(edges[1]!, 2, rotated.body.password),
    ];

    cut = Promise.all(sessions.map(closed));
    expect((await api1.proc.api('POST', `/api/devices/${id}/disable`)).status).toBe(200);
    await cut;
    for (const [n, edge] of edges.entries())
      await expect(
        session(edge, n + 1, rotated.body.password),
        `disabled, on edge ${n + 1}`,
      ).rejects.toThrow();
  }, 120_000);

  it('two kpi processes: exactly one leads; when it is killed the other takes over', async () => {
    const env = await clusterEnv({ KPI_LEADER_RETRY_MS: '300' });
    const a = await start('kpi', env);
    const b = await start('kpi', env);
    const states = async () => [(await a.readyz()).body.kpi?.state, (await b.readyz()).body.kpi?.state];
    expect((await states()).sort()).toEqual(['leader', 'standby']);
    expect((await a.readyz()).status).toBe(200);
    expect((await b.readyz()).status).toBe(200);
    const [leader, standby] = (await a.readyz()).body.kpi?.state === 'leader' ? [a, b] : [b, a];
    await leader.proc.kill('SIGKILL');
    await until(
      'the standby to lead',
      async () => (await standby.readyz()).body.kpi?.state === 'leader',
      20_000,
    );
    expect((await standby.readyz()).body.checks.kpiLock).toBe(true);
  }, 120_000);

  it('kpi and api nodes share the KPI records: a value entered on one api node is served by the other, each due month closes once across a takeover', async () => {
    // The api nodes of one cluster share one admin token (a different one is refused: see below).
    const env = await clusterEnv({
      KPI_LEADER_RETRY_MS: '300',
      ADMIN_TOKEN: `cluster-admin-${'t'.repeat(24)}`,
    });
    const [api1, api2] = [await start('api', env), await start('api', env)];
    // Installed four months ago: the months since are due to close as soon as a kpi leader starts.
    const installed = new Date();
    installed.setUTCMonth(installed.getUTCMonth() - 4, 1);
    const device = await api1.proc.api('POST', '/api/devices', {
      installedAt: installed.toISOString(),
      kind: 'air-quality-station',
      district: 'D1',
    });
    expect(device.status).toBe(201);
    const [a, b] = [await start('kpi', env), await start('kpi', env)];
    // The leader is killed as soon as it is known, while it may be closing those months.
    const [first, second] = (await a.readyz()).body.kpi?.state === 'leader' ? [a, b] : [b, a];
    await first.proc.kill('SIGKILL');
    await until(
      'the standby to lead',
      async () => (await second.readyz()).body.kpi?.state === 'leader',
      20_000,
    );
    const due: string[] = [];
    for (let m = new Date(installed); due.length < 3; m.setUTCMonth(m.getUTCMonth() + 1))
      due.push(m.toISOString().slice(0, 7));
    const closes = async () =>
      (
        await pg.query(
          `SELECT period, version FROM kpi_rollups WHERE period = ANY('{${due.join(',')}}') ORDER BY period, version`,
          env.POSTGRES_URL,
        )
      ).rows as Array<{ period: string; version: number }>;
    await until('the due months closed', async () => (await closes()).length >= due.length, 60_000);
    expect(await closes()).toEqual(due.map((period) => ({ period, version: 1 })));
    const code = encodeURIComponent('EC: ICT: ICT: 1C');
    const year = String(new Date().getUTCFullYear() - 1);
    const entered = await api1.proc.api('POST', `/api/kpis/${code}/values`, {
      period: year,
      value: 91.5,
      unit: '%',
      dataQuality: 'extrapolated-survey',
      source: 'national statistics office',
    });
    expect(entered.status).toBe(201);
    // what the api node computes for that year, with the records it holds
    const yearValue = async (api: RoleProcess) =>
      (await api.proc.api<{ value: number | null }>('GET', `/api/kpis/${code}/lineage?period=${year}`)).body
        .value;
    await until('the other api node to serve the value', async () => (await yearValue(api2)) === 91.5);

    // A month long past: closed on demand through one api node, refused as closed through the other.
    const month = `${year}-06`;
    const closed = await api2.proc.api<{ closed: Array<{ period: string; version: number }> }>(
      'POST',
      `/api/rollups/${month}/close`,
    );
    expect(closed.status).toBe(201);
    expect(closed.body.closed).toEqual([expect.objectContaining({ period: month, version: 1 })]);
    await until('the close to reach the other api node', async () => {
      const again = await api1.proc.api<{ error?: { code: string } }>('POST', `/api/rollups/${month}/close`);
      return again.status === 409 && again.body.error?.code === 'METRICS_ALREADY_CLOSED';
    });

    // the new leader does not close it again
    const rows = await pg.query(
      `SELECT period, version FROM kpi_rollups WHERE period = '${month}' ORDER BY version`,
      env.POSTGRES_URL,
    );
    expect(rows.rows).toEqual([{ period: month, version: 1 }]);
    const versions = await api1.proc.api<{ versions: Array<{ version: number }> }>(
      'GET',
      `/api/rollups/${month}/versions`,
    );
    expect(versions.body.versions.map((v) => v.version)).toEqual([1]);
    expect(await yearValue(api1)).toBe(91.5);
    const listed = await api2.proc.api<{ items: Array<{ value: number; source: string }> }>(
      'GET',
      '/api/manual-inputs',
    );
    expect(listed.body.items).toEqual([
      expect.objectContaining({ value: 91.5, source: 'national statistics office' }),
    ]);
  }, 180_000);

  it('report packs: the kpi leader packs each due month once across a takeover, into the folder every kpi node shares; the api node lists each delivered once', async () => {
    // The one folder both kpi nodes write to (in production a share every kpi node mounts).
    const reports = makeTempDir('cm-cluster-reports-');
    const env = await clusterEnv({
      KPI_LEADER_RETRY_MS: '300',
      ADMIN_TOKEN: `cluster-admin-${'t'.repeat(24)}`,
      REPORT_DIR: reports.path,
      REPORT_RETRY_MIN_DELAY_MS: '50',
      REPORT_RETRY_MAX_DELAY_MS: '200',
    });
    try {
      const api = await start('api', env);
      // Installed four months ago: the months since are due to close as soon as a kpi leader starts.
      const installed = new Date();
      installed.setUTCMonth(installed.getUTCMonth() - 4, 1);
      const device = await api.proc.api('POST', '/api/devices', {
        installedAt: installed.toISOString(),
        kind: 'air-quality-station',
        district: 'D1',
      });
      expect(device.status).toBe(201);
      // Started together, so that the leader is killed as soon as it is known, while it may be closing,
      // packing or writing a pack into the folder.
      const [a, b] = await Promise.all([start('kpi', env), start('kpi', env)]);
      const [first, second] = (await a.readyz()).body.kpi?.state === 'leader' ? [a, b] : [b, a];
      await first.proc.kill('SIGKILL');
      await until(
        'the standby to lead',
        async () => (await second.readyz()).body.kpi?.state === 'leader',
        20_000,
      );
      const due: string[] = [];
      for (let m = new Date(installed); due.length < 3; m.setUTCMonth(m.getUTCMonth() + 1))
        due.push(m.toISOString().slice(0, 7));

      interface Listed {
        month: string;
        version: number;
        target: string;
        state: string;
        trigger: string;
        fileHashes: Record<string, string>;
      }
      const listed = async () =>
        (
          await api.proc.api<{ targets: Array<{ kind: string }>; deliveries: Listed[] }>(
            'GET',
            '/api/reports',
          )
        ).body;
      await until(
        'every due month delivered',
        async () => {
          const delivered = (await listed()).deliveries.filter((d) => d.state === 'delivered');
          return due.every((m) => delivered.some((d) => d.month === m));
        },
        90_000,
      );
      const body = await listed();
      expect(body.targets).toEqual([{ kind: 'folder', destination: reports.path }]);
      const ofDue = body.deliveries.filter((d) => due.includes(d.month));
      // one pack and one delivery per month, delivered once, whichever leader began it
      expect(ofDue.map((d) => [d.month, d.version, d.target, d.state]).sort()).toEqual(
        due.map((m) => [m, 1, 'folder', 'delivered']),
      );
      for (const m of due) {
        // exactly once in the folder: one version, nothing half-written beside it
        expect(readdirSync(join(reports.path, m)), m).toEqual(['v1']);
        const delivery = ofDue.find((d) => d.month === m)!;
        const files = readdirSync(join(reports.path, m, 'v1')).sort();
        expect(files).toEqual(Object.keys(delivery.fileHashes).sort());
        for (const f of files)
          expect(
            createHash('sha256')
              .update(readFileSync(join(reports.path, m, 'v1', f)))
              .digest('hex'),
            `${m}/${f}`,
          ).toBe(delivery.fileHashes[f]);
        const month = await api.proc.api<{ pack: { version: number; manifest: { month: string } } | null }>(
          'GET',
          `/api/reports/${m}`,
        );
        expect(month.body.pack).toMatchObject({ version: 1, manifest: { month: m } });
      }

      // A send on demand through the api node is made by the leader: the same pack, recorded at once. Until
      // the new leader has started its packs, it is refused as retryable (503 REPORT_LEADER_UNAVAILABLE).
      let sent = await api.proc.api<{ deliveries: Listed[]; error?: { code: string } }>(
        'POST',
        `/api/reports/${due[0]}`,
      );
      await until('the leader to take a send', async () => {
        if (sent.status === 503 && sent.body.error?.code === 'REPORT_LEADER_UNAVAILABLE')
          sent = await api.proc.api('POST', `/api/reports/${due[0]}`);
        return sent.status !== 503;
      });
      expect(sent.status).toBe(202);
      expect(sent.body.deliveries.map((d) => [d.month, d.trigger, d.state])).toEqual([
        [due[0], 'manual', 'pending'],
      ]);
      expect(sent.body.deliveries[0]!.fileHashes).toEqual(ofDue.find((d) => d.month === due[0])!.fileHashes);
      await until('the send delivered', async () =>
        (await listed()).deliveries.some((d) => d.trigger === 'manual' && d.state === 'delivered'),
      );
      expect(readdirSync(join(reports.path, due[0]!))).toEqual(['v1']);
      const notClosed = await api.proc.api<{ error: { code: string } }>('POST', '/api/reports/2001-01');
      expect([notClosed.status, notClosed.body.error.code]).toEqual([409, 'REPORT_MONTH_NOT_CLOSED']);

      // No leader: a send is refused with a code that says why; the lists still answer.
      await second.proc.kill('SIGKILL');
      const refused = await api.proc.api<{ error: { code: string } }>('POST', `/api/reports/${due[1]}`);
      expect([refused.status, refused.body.error.code]).toEqual([503, 'REPORT_LEADER_UNAVAILABLE']);
      expect((await api.proc.api('GET', `/api/reports/${due[1]}`)).status).toBe(200);
    } finally {
      reports.remove();
    }
  }, 240_000);

  it('alerts: one engine on the kpi leader, rules and acknowledgements through any api node, continued across a takeover', async () => {
    const env = await clusterEnv({
      KPI_LEADER_RETRY_MS: '300',
      ADMIN_TOKEN: `cluster-admin-${'t'.repeat(24)}`,
    });
    const [api1, api2] = [await start('api', env), await start('api', env)];
    const edge = await start('edge', env);
    const rule = {
      name: 'PM2.5 high at a station',
      severity: 'critical',
      condition: {
        kind: 'series-threshold',
        scope: 'device',
        metric: 'pm25',
        op: '>',
        value: 50,
        forMinutes: 0,
        clearForMinutes: 0,
      },
    };
    // No kpi leader yet: a change is refused with a code that says why, and reads still answer.
    const early = await api1.proc.api<{ error: { code: string } }>('POST', '/api/alert-rules', rule);
    expect(early.status).toBe(503);
    expect(early.body.error.code).toBe('ALERTS_LEADER_UNAVAILABLE');
    expect((await api2.proc.api('GET', '/api/alerts')).status).toBe(200);

    const [a, b] = [await start('kpi', env), await start('kpi', env)];
    const created = await api1.proc.api<{ id: string }>('POST', '/api/alert-rules', rule);
    expect(created.status).toBe(201);
    const rules = await api2.proc.api<{ items: Array<{ id: string }> }>('GET', '/api/alert-rules');
    expect(rules.body.items.map((r) => r.id)).toEqual([created.body.id]);

    const device = await api1.proc.api<{ id: string; password: string }>('POST', '/api/devices', {
      installedAt: new Date(Date.now() - 86_400_000).toISOString(),
      kind: 'air-quality-station',
      district: 'D1',
    });
    const client = await loginOnceKnown(edge.proc.mqttUrl, device.body.id, device.body.password);
    const topic = topicFor(device.body.id, 'telemetry');
    const now = Date.now();
    type Listed = {
      items: Array<{ id: string; state: string; acknowledgedBy: string | null; repeatCount: number }>;
      total: number;
    };
    const alerts = async (api: RoleProcess) => (await api.proc.api<Listed>('GET', '/api/alerts')).body;
    // A live page on api node 1 hears of alert changes that the leader announces.
    const pushed: Array<{ id: string; state: string }> = [];
    const socket = io(api1.proc.httpUrl, {
      path: '/socket.io',
      transports: ['websocket'],
      reconnection: false,
      auth: { token: env.ADMIN_TOKEN },
    });
    socket.on('alert', (p: { items: Array<{ id: string; state: string }> }) => pushed.push(...p.items));
    await new Promise<void>((resolve, reject) => {
      socket.once('snapshot', () => resolve());
      socket.once('connect_error', reject);
    });
    // A reading through the edge reaches the leader's engine by its live relay; the alert is in PostgreSQL.
    await publish(client, topic, payload(now - 10 * MINUTE, 80));
    await until('the alert listed by the other api node', async () => (await alerts(api2)).total === 1);
    const [opened] = (await alerts(api2)).items;
    expect(opened).toMatchObject({ state: 'open' });
    // pushes are coalesced per alert: the open one is seen before it is acknowledged
    await until('the live page to show it open', () =>
      pushed.some((p) => p.id === opened!.id && p.state === 'open'),
    );
    // Only the leader reads the edges' traffic: a kpi standby's relay is not subscribed.
    const [first, second] = (await a.readyz()).body.kpi?.state === 'leader' ? [a, b] : [b, a];
    expect((await first.readyz()).body.liveRelay?.relayed).toBeGreaterThan(0);
    expect((await second.readyz()).body.liveRelay?.relayed).toBe(0);
    const acked = await api2.proc.api<{ state: string }>('POST', `/api/alerts/${opened!.id}/acknowledge`);
    expect(acked.status).toBe(200);
    expect(acked.body.state).toBe('acknowledged');
    const again = await api1.proc.api<{ error: { code: string } }>(
      'POST',
      `/api/alerts/${opened!.id}/acknowledge`,
    );
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('API_CONFLICT');
    await until('the live page to show it acknowledged', () =>
      pushed.some((p) => p.id === opened!.id && p.state === 'acknowledged'),
    );
    socket.close();

    // The leader dies: the standby continues the same alert, still acknowledged, not a second one.
    await first.proc.kill('SIGKILL');
    await until(
      'the standby to lead',
      async () => (await second.readyz()).body.kpi?.state === 'leader',
      20_000,
    );
    await until('the new leader to take commands', async () => {
      const r = await api1.proc.api('GET', '/api/alert-rules');
      return (
        r.status === 200 && (await api1.proc.api('POST', `/api/alerts/a000000000000/clear`)).status === 404
      );
    });
    await publish(client, topic, payload(now - 9 * MINUTE, 90));
    await publish(client, topic, payload(now - 8 * MINUTE, 10));
    await until(
      'the alert cleared by the new leader',
      async () => (await alerts(api1)).items[0]?.state === 'cleared',
    );
    expect((await second.readyz()).body.liveRelay?.relayed).toBeGreaterThan(0);
    expect(await alerts(api1)).toMatchObject({
      total: 1,
      items: [{ id: opened!.id, state: 'cleared', acknowledgedBy: expect.any(String) }],
    });
    client.end(true);
  }, 180_000);

  it('refuses to start, with the code and the setting to fix, when NATS or PostgreSQL is unreachable or the stream was made otherwise', async () => {
    const env = await clusterEnv();
    const failed = async (roles: string, extra: Record<string, string>) => {
      const r = await roleProcess(roles, { ...env, ...extra });
      running.push(r);
      r.proc.spawn();
      const exit = await r.proc.whenExited();
      expect(exit.code).toBe(1);
      return r.proc.output;
    };
    expect(await failed('edge', { NATS_URL: 'nats://127.0.0.1:1' })).toMatch(
      /INGEST_LOG_UNAVAILABLE: NATS_URL nats:\/\/127\.0\.0\.1:1: cannot connect/,
    );
    expect(await failed('writer', { POSTGRES_URL: 'postgres://postgres@127.0.0.1:1/none' })).toMatch(
      /INGEST_STORE_UNAVAILABLE: POSTGRES_URL postgres:\/\/postgres@127\.0\.0\.1:1\/none/,
    );
    const edge = await start('edge', env);
    // A graceful stop closes every connection and exits 0.
    expect(await edge.proc.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(await failed('edge', { JETSTREAM_SHARDS: '8' })).toMatch(
      /INGEST_LOG_MISCONFIGURED: JetStream stream ROLES_/,
    );
    expect(await failed('api', { STORE: 'sqlite' })).toMatch(
      /CONFIG_INVALID: .*STORE=sqlite cannot be shared by the api/s,
    );
    // A second api node with another ADMIN_TOKEN would lock the first one's admins out: refused.
    const api = await start('api', env);
    expect(await failed('api', { ADMIN_TOKEN: `another-admin-${'x'.repeat(24)}` })).toMatch(
      /CONFIG_INVALID: ADMIN_TOKEN differs from the admin key the other api nodes registered/,
    );
    expect((await api.proc.api('GET', '/api/devices')).status).toBe(200);
    // unless asked to: a rotation
    const rotated = await start('api', {
      ...env,
      ADMIN_TOKEN: `rotated-admin-${'r'.repeat(24)}`,
      ADMIN_TOKEN_REPLACE: 'true',
    });
    expect((await rotated.proc.api('GET', '/api/devices')).status).toBe(200);
    expect((await api.proc.api('GET', '/api/devices')).status).toBe(401);
  }, 120_000);
});
