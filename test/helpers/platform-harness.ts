import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { ApiClient } from '../../core/api-client.ts';
import { type Clock, systemClock } from '../../core/clock.ts';
import { type ConfigInput, testConfig } from '../../core/config.ts';
import { silentLogger } from '../../core/logger.ts';
import { buildPlatform, type Platform, type PlatformAddresses } from '../../platform.ts';

export interface TestPlatform {
  platform: Platform;
  addresses: PlatformAddresses;
  adminToken: string;
  dataDir: string;
  api<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    token?: string,
  ): Promise<{ status: number; body: T }>;
  /**
   * Provisions through the API. `installedAt` (ISO) defaults to as far back as the late window reaches
   * from the clock's now, so that a test may stamp readings anywhere ingest takes them; a test about KPI
   * completeness or the installed interval passes its own.
   */
  provision(
    kind: string,
    district: string,
    attributes?: Record<string, string | number | boolean>,
    installedAt?: string,
  ): Promise<{ id: string; password: string }>;
  connect(id: string, password: string, options?: IClientOptions): Promise<MqttClient>;
  close(): Promise<void>;
}

/** The whole platform as `npm start` runs it, on ephemeral ports and a temp data directory. */
export async function startTestPlatform(
  overrides: Partial<ConfigInput> = {},
  clock: Clock = systemClock,
  dataDir?: string,
): Promise<TestPlatform> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'citymetrics-e2e-'));
  // On a clock moved by hand each message commits as it comes: the group commit's timer runs on that clock,
  // which does not move while a device waits for its acknowledgement.
  const commit = clock === systemClock ? { logFlushIntervalMs: 2 } : { logFlushMaxValues: 1 };
  const config = testConfig({ dataDir: dir, ...commit, ...overrides });
  const platform = await buildPlatform({ config, logger: silentLogger(), clock });
  const admin = await platform.apiKeys.create({ role: 'admin', name: 'test' });
  const addresses = await platform.start();
  const clients: MqttClient[] = [];

  const client = new ApiClient({ baseUrl: addresses.httpUrl, token: admin.token });
  const api = async <T>(method: string, path: string, body?: unknown, token: string | null = admin.token) => {
    const res = await client.send<T>(method, path, {
      token,
      ...(body !== undefined ? { body: { json: body } } : {}),
    });
    return { status: res.status, body: res.body };
  };

  return {
    platform,
    addresses,
    adminToken: admin.token,
    dataDir: dir,
    api: (method, path, body, token) => api(method, path, body, token),
    async provision(kind, district, attributes, installedAt) {
      const res = await api<{ id: string; password: string }>('POST', '/api/devices', {
        kind,
        district,
        ...(attributes ? { attributes } : {}),
        installedAt: installedAt ?? new Date(clock.now() - config.ingestLateWindowMs).toISOString(),
      });
      if (res.status !== 201) throw new Error(`provision failed: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    },
    async connect(id, password, options = {}) {
      const client = mqtt.connect(addresses.mqttUrl, {
        username: id,
        password,
        clientId: id,
        reconnectPeriod: 0,
        ...options,
      });
      clients.push(client);
      await new Promise<void>((resolve, reject) => {
        client.once('connect', () => resolve());
        client.once('error', reject);
      });
      return client;
    },
    async close() {
      await Promise.all(clients.map((c) => c.endAsync(true).catch(() => {})));
      await platform.stop();
      if (dataDir === undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves with the next message on a topic the client subscribes to. */
export async function nextMessage(client: MqttClient, topic: string): Promise<Record<string, unknown>> {
  const received = new Promise<Record<string, unknown>>((resolve) => {
    const onMessage = (t: string, payload: Buffer) => {
      if (t !== topic) return;
      client.off('message', onMessage);
      resolve(JSON.parse(payload.toString()) as Record<string, unknown>);
    };
    client.on('message', onMessage);
  });
  return received;
}
