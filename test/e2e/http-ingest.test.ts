import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.ts';
import { type ErrorCode, errorCatalogue } from '../../core/errors.ts';
import { nextMessage, startTestPlatform, type TestPlatform } from '../helpers/platform-harness.ts';
import { findServerBinary } from '../servers/process-server.ts';

/**
 * HTTP ingest on the whole platform, over real HTTP: a device's own Basic credentials, the same codes and
 * counts as MQTT (each bad payload is sent both ways and the answers compared), the rate shared with MQTT,
 * 201 only once the reading is in the durable log. A manual clock stands in for time (rate refills, windows).
 */
const MAX_PAYLOAD = 4_096;
const RATE = 5;
const BACKLOG = 50;

interface Answer {
  status: number;
  headers: Headers;
  body: { error?: { code: string; message: string; field?: string } } & Record<string, unknown>;
}
interface Stats {
  accepted: { values: number };
  refused: { byReason: Record<string, number> };
  stored: { inserted: number; duplicates: number };
  backlog: number;
}
type Device = { id: string; password: string };

let t: TestPlatform;
const clock = new ManualClock(Date.now());

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

async function post(
  channel: 'telemetry' | 'events',
  pathId: string,
  authorization: string | null,
  body: string | Buffer,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const res = await fetch(`${t.addresses.httpUrl}/api/devices/${pathId}/${channel}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(authorization === null ? {} : { authorization }),
      ...headers,
    },
    body: typeof body === 'string' ? body : new Uint8Array(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : {} };
}
const postAs = (d: Device, payload: unknown, channel: 'telemetry' | 'events' = 'telemetry') =>
  post(channel, d.id, basic(d.id, d.password), JSON.stringify(payload));

const stats = async () => (await t.api<Stats>('GET', '/api/ingest/stats')).body;
const refusedDelta = (before: Stats, after: Stats, code: string) =>
  (after.refused.byReason[code] ?? 0) - (before.refused.byReason[code] ?? 0);

async function series(deviceId: string, metric: string) {
  const from = new Date(clock.now() - 3_600_000).toISOString();
  const to = new Date(clock.now() + 3_600_000).toISOString();
  const res = await t.api<{ points: Array<{ count: number; mean: number }> }>(
    'GET',
    `/api/series?device=${deviceId}&metric=${metric}&from=${from}&to=${to}&step=hour`,
  );
  expect(res.status).toBe(200);
  return res.body.points;
}

beforeAll(async () => {
  t = await startTestPlatform(
    { mqttMaxPayloadBytes: MAX_PAYLOAD, deviceRateLimitPerSec: RATE, ingestMaxBacklogValues: BACKLOG },
    clock,
  );
});
afterAll(async () => {
  await t.close();
});

describe('HTTP ingest: accepted readings', () => {
  it('answers 201 once the reading is in the durable log, and the series API then has it', async () => {
    const d = await t.provision('air-quality-station', 'Old Town');
    const ts = clock.now();
    const before = await stats();
    // Store writes held: a 201 can only come from the log commit, not from the store.
    t.platform.ingest.pauseStoreWrites();
    const res = await postAs(d, { ts, values: { pm25: 12.5, no2: { value: 10, unit: 'ppb' } } });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ deviceId: d.id, channel: 'telemetry', accepted: 2 });
    const held = await stats();
    expect(held.accepted.values - before.accepted.values).toBe(2);
    expect(held.backlog).toBe(2);
    expect(await series(d.id, 'pm25')).toEqual([]);
    t.platform.ingest.resumeStoreWrites();
    await t.platform.ingest.drain();
    const points = await series(d.id, 'pm25');
    expect(points.map((p) => [p.count, p.mean])).toEqual([[1, 12.5]]);
    const latest = await t.api<{ values: Array<{ metric: string; value: number }> }>(
      'GET',
      `/api/devices/${d.id}/latest`,
    );
    // 10 ppb NO2 at 20 °C and 101.325 kPa: 10 × 46.0055 / 24.055 µg/m³.
    expect(latest.body.values.find((v) => v.metric === 'no2')?.value).toBeCloseTo(
      (10 * 46.0055 * 101.325) / (8.314462618 * 293.15),
      9,
    );
  });

  it('takes the same reading twice as a duplicate: stored once', async () => {
    const d = await t.provision('air-quality-station', 'Old Town');
    const reading = { ts: clock.now(), values: { pm25: 7 } };
    const before = await stats();
    expect((await postAs(d, reading)).status).toBe(201);
    await t.platform.ingest.drain();
    expect((await postAs(d, reading)).status).toBe(201);
    await t.platform.ingest.drain();
    const after = await stats();
    expect(after.stored.inserted - before.stored.inserted).toBe(1);
    expect(after.stored.duplicates - before.stored.duplicates).toBe(1);
    expect((await series(d.id, 'pm25')).map((p) => p.count)).toEqual([1]);
  });

  it('takes SenML as application/senml+json, and refuses a form post', async () => {
    const d = await t.provision('air-quality-station', 'Old Town');
    const senml = JSON.stringify([{ bn: `urn:dev:${d.id}:`, bt: clock.now() / 1000, n: 'pm25', v: 9 }]);
    const auth = basic(d.id, d.password);
    const taken = await post('telemetry', d.id, auth, senml, { 'content-type': 'application/senml+json' });
    expect([taken.status, taken.body.accepted]).toEqual([201, 1]);
    const form = await post('telemetry', d.id, auth, 'ts=1&pm25=3', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect([form.status, form.body.error?.code, form.body.error?.field]).toEqual([
      400,
      'API_VALIDATION',
      'content-type',
    ]);
    await t.platform.ingest.drain();
    expect((await series(d.id, 'pm25')).map((p) => p.mean)).toEqual([9]);
  });

  it('takes an event the kind declares', async () => {
    const d = await t.provision('air-quality-station', 'Old Town');
    const res = await postAs(d, { ts: clock.now(), type: 'calibration' }, 'events');
    expect([res.status, res.body]).toEqual([201, { deviceId: d.id, channel: 'events', accepted: 1 }]);
  });
});

describe('HTTP ingest: a bad payload gets the code MQTT gives it, counted for each path', () => {
  const now = () => clock.now() - 1_000;
  const cases: Array<{ name: string; channel?: 'events'; payload: () => string | Buffer; code: ErrorCode }> =
    [
      { name: 'empty payload', payload: () => '', code: 'INGEST_EMPTY_PAYLOAD' },
      { name: 'invalid JSON', payload: () => '{"ts": 1, "values": {', code: 'INGEST_MALFORMED_JSON' },
      {
        name: 'wrong type of values',
        payload: () => JSON.stringify({ ts: now(), values: { pm25: 'high' } }),
        code: 'INGEST_SCHEMA',
      },
      {
        name: 'repeated key',
        payload: () => `{"ts": ${now()}, "values": {"pm25": 9999, "pm25": 3}}`,
        code: 'INGEST_DUPLICATE_KEY',
      },
      {
        name: 'unknown metric',
        payload: () => JSON.stringify({ ts: now(), values: { radon: 3 } }),
        code: 'INGEST_UNKNOWN_METRIC',
      },
      {
        name: 'unknown unit',
        payload: () => JSON.stringify({ ts: now(), values: { no2: { value: 3, unit: 'furlongs' } } }),
        code: 'INGEST_UNKNOWN_UNIT',
      },
      {
        name: 'out of range in a batch',
        payload: () =>
          JSON.stringify([
            { ts: now(), values: { pm25: 5 } },
            { ts: now() + 1, values: { pm25: 5000 } },
          ]),
        code: 'INGEST_OUT_OF_RANGE',
      },
      {
        name: 'infinite value',
        payload: () => `{"ts": ${now()}, "values": {"pm25": 1e400}}`,
        code: 'INGEST_NOT_FINITE',
      },
      {
        name: 'bad timestamp',
        payload: () => JSON.stringify({ ts: 'yesterday', values: { pm25: 3 } }),
        code: 'INGEST_TS_INVALID',
      },
      {
        name: 'far future',
        payload: () => JSON.stringify({ ts: clock.now() + 3_600_000, values: { pm25: 3 } }),
        code: 'INGEST_TS_FUTURE',
      },
      {
        name: 'too old',
        payload: () => JSON.stringify({ ts: clock.now() - 30 * 86_400_000, values: { pm25: 3 } }),
        code: 'INGEST_TS_TOO_OLD',
      },
      {
        name: 'deep nesting',
        payload: () => `{"ts": 1, "values": ${'['.repeat(50)}${']'.repeat(50)}}`,
        code: 'INGEST_TOO_DEEP',
      },
      {
        name: 'oversized',
        payload: () => Buffer.alloc(MAX_PAYLOAD + 1, 0x20),
        code: 'GATEWAY_PAYLOAD_TOO_LARGE',
      },
      {
        name: 'unknown event type',
        channel: 'events',
        payload: () => JSON.stringify({ ts: now(), type: 'explosion' }),
        code: 'INGEST_UNKNOWN_EVENT',
      },
    ];
  let d: Device;
  let client: MqttClient;
  beforeAll(async () => {
    d = await t.provision('air-quality-station', 'Old Town');
    client = await t.connect(d.id, d.password);
    await client.subscribeAsync(`devices/${d.id}/errors`, { qos: 1 });
  });

  it.each(cases)('$name → $code', async ({ channel: events, payload, code }) => {
    const channel = events ?? 'telemetry';
    clock.advance(1_000); // the device's rate refills: two messages per case
    const before = await stats();
    const error = nextMessage(client, `devices/${d.id}/errors`);
    await client.publishAsync(`devices/${d.id}/${channel}`, payload(), { qos: 1 });
    const overMqtt = await error;
    const res = await post(channel, d.id, basic(d.id, d.password), payload());
    expect(overMqtt.code).toBe(code);
    expect(res.status).toBe(errorCatalogue[code].httpStatus);
    expect(res.body.error?.code).toBe(code);
    expect(res.body.error?.field).toBe(overMqtt.field);
    expect(refusedDelta(before, await stats(), code)).toBe(2);
  });

  it('counts an HTTP refusal for its device (refusal events) and in /metrics', async () => {
    clock.advance(1_000);
    const refused: Array<{ deviceId: string | null; code: string }> = [];
    const onRefused = (r: { deviceId: string | null; code: string }) => refused.push(r);
    t.platform.events.on('refused', onRefused);
    const metric = async () => {
      const text = await (await fetch(`${t.addresses.httpUrl}/metrics`)).text();
      const line = text.split('\n').find((l) => l.includes('reason="INGEST_OUT_OF_RANGE"'));
      return Number(line?.split(' ').pop() ?? 0);
    };
    const before = await metric();
    try {
      const res = await postAs(d, { ts: clock.now(), values: { pm25: -4 } });
      expect(res.status).toBe(400);
    } finally {
      t.platform.events.off('refused', onRefused);
    }
    expect(refused).toEqual([{ deviceId: d.id, code: 'INGEST_OUT_OF_RANGE', at: clock.now() }]);
    expect((await metric()) - before).toBe(1);
    await t.platform.ingest.drain();
    expect(await series(d.id, 'pm25')).toEqual([]);
  });
});

describe('HTTP ingest: credentials', () => {
  it('answers 401 with a Basic challenge for a wrong password, none, or an API key', async () => {
    const d = await t.provision('air-quality-station', 'Old Town');
    const reading = JSON.stringify({ ts: clock.now(), values: { pm25: 3 } });
    const before = await stats();
    const answers = [
      await post('telemetry', d.id, basic(d.id, 'not-the-password'), reading),
      await post('telemetry', d.id, null, reading),
      await post('telemetry', d.id, `Bearer ${t.adminToken}`, reading),
    ];
    for (const res of answers) {
      expect([res.status, res.body.error?.code]).toEqual([401, 'GATEWAY_BAD_CREDENTIALS']);
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    }
    expect(refusedDelta(before, await stats(), 'GATEWAY_BAD_CREDENTIALS')).toBe(3);
    await t.platform.ingest.drain();
    expect(await series(d.id, 'pm25')).toEqual([]);
  });

  it("answers 403 to a device posting under another device's id", async () => {
    const a = await t.provision('air-quality-station', 'Old Town');
    const b = await t.provision('air-quality-station', 'Old Town');
    const before = await stats();
    const res = await post(
      'telemetry',
      b.id,
      basic(a.id, a.password),
      JSON.stringify({ ts: clock.now(), values: { pm25: 3 } }),
    );
    expect([res.status, res.body.error?.code, res.body.error?.field]).toEqual([
      403,
      'GATEWAY_NOT_AUTHORIZED',
      'id',
    ]);
    expect(refusedDelta(before, await stats(), 'GATEWAY_NOT_AUTHORIZED')).toBe(1);
    await t.platform.ingest.drain();
    expect(await series(b.id, 'pm25')).toEqual([]);
    expect(await series(a.id, 'pm25')).toEqual([]);
  });

  it('answers 401 GATEWAY_DEVICE_DISABLED to a disabled device, and 201 once enabled again', async () => {
    const d = await t.provision('air-quality-station', 'Old Town');
    expect((await t.api('POST', `/api/devices/${d.id}/disable`)).status).toBe(200);
    const reading = { ts: clock.now(), values: { pm25: 3 } };
    const refused = await postAs(d, reading);
    expect([refused.status, refused.body.error?.code]).toEqual([401, 'GATEWAY_DEVICE_DISABLED']);
    expect(refused.headers.get('www-authenticate')).toMatch(/^Basic /);
    expect((await t.api('POST', `/api/devices/${d.id}/enable`)).status).toBe(200);
    expect((await postAs(d, reading)).status).toBe(201);
  });
});

describe('HTTP ingest: rate and backpressure', () => {
  it('shares the device rate with MQTT: 429 with Retry-After, accepted once the rate allows', async () => {
    const d = await t.provision('air-quality-station', 'Old Town');
    const client = await t.connect(d.id, d.password);
    // The whole burst (twice the rate) spent over MQTT: HTTP gets no second allowance.
    for (let i = 0; i < 2 * RATE; i++) {
      await client.publishAsync(
        `devices/${d.id}/telemetry`,
        JSON.stringify({ ts: clock.now() - i, values: { pm25: 4 } }),
        { qos: 1 },
      );
    }
    const before = await stats();
    const reading = { ts: clock.now() + 1, values: { pm25: 4 } };
    const limited = await postAs(d, reading);
    expect([limited.status, limited.body.error?.code]).toEqual([429, 'GATEWAY_RATE_LIMITED']);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refusedDelta(before, await stats(), 'GATEWAY_RATE_LIMITED')).toBe(1);
    clock.advance(Number(limited.headers.get('retry-after')) * 1_000);
    expect((await postAs(d, reading)).status).toBe(201);
  });

  it('answers 503 with Retry-After while the store is behind, and 201 once it caught up', async () => {
    const d = await t.provision('air-quality-station', 'Old Town');
    clock.advance(1_000);
    t.platform.ingest.pauseStoreWrites();
    try {
      const batch = Array.from({ length: BACKLOG + 1 }, (_, i) => ({
        ts: clock.now() - i * 1_000,
        values: { pm25: 2 },
      }));
      expect((await postAs(d, batch)).status).toBe(201);
      const behind = await postAs(d, { ts: clock.now(), values: { pm25: 3 } });
      expect([behind.status, behind.body.error?.code]).toEqual([503, 'INGEST_STORE_UNAVAILABLE']);
      expect(Number(behind.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    } finally {
      t.platform.ingest.resumeStoreWrites();
    }
    await t.platform.ingest.drain();
    expect((await postAs(d, { ts: clock.now(), values: { pm25: 3 } })).status).toBe(201);
  });
});

describe('HTTP ingest: documented', () => {
  it('is in the OpenAPI document under the device Basic scheme', async () => {
    const doc = await t.api<{
      paths: Record<string, Record<string, { security: unknown[]; requestBody?: unknown }>>;
    }>('GET', '/api/openapi.json');
    for (const channel of ['telemetry', 'events'] as const) {
      const op = doc.body.paths[`/api/devices/{id}/${channel}`]?.post;
      expect(op?.security).toEqual([{ deviceBasic: [] }]);
      expect(op?.requestBody).toBeDefined();
    }
  });

  it("takes the README's curl example as written", async () => {
    const curl = findServerBinary('/usr/bin/curl', 'curl');
    if (curl === null) return;
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## HTTP ingest'));
    const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
    // The first command of the block, with its continuation lines.
    const command = /^curl [\s\S]*?[^\\]\n/m.exec(block)?.[0] ?? '';
    expect(command).toContain('/telemetry');
    const d = await t.provision('air-quality-station', 'Old Town');
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn('sh', ['-c', command], {
        env: {
          PATH: process.env.PATH,
          CITYMETRICS: t.addresses.httpUrl,
          DEVICE_ID: d.id,
          DEVICE_PASSWORD: d.password,
        },
      });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
      });
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`curl exited ${code}`))));
    });
    expect(JSON.parse(output)).toEqual({ deviceId: d.id, channel: 'telemetry', accepted: 2 });
    await t.platform.ingest.drain();
    expect((await series(d.id, 'pm25')).map((p) => p.mean)).toEqual([12.5]);
  });
});

describe('HTTP ingest: failed logins are limited as for API keys', () => {
  // Last: it locks this address out of the whole API until the window ends.
  it('answers 429 API_RATE_LIMITED to guessing, even to the right password, until the window ends', async () => {
    const d = await t.provision('air-quality-station', 'Old Town');
    const reading = JSON.stringify({ ts: clock.now(), values: { pm25: 3 } });
    let failures = 0;
    let res: Answer;
    do {
      res = await post('telemetry', d.id, basic(d.id, `guess-${failures}`), reading);
      failures++;
    } while (res.status === 401 && failures <= 30);
    expect([res.status, res.body.error?.code]).toEqual([429, 'API_RATE_LIMITED']);
    const locked = await postAs(d, { ts: clock.now(), values: { pm25: 3 } });
    expect([locked.status, locked.body.error?.code]).toEqual([429, 'API_RATE_LIMITED']);
    const retryAfter = Number(locked.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    clock.advance(retryAfter * 1_000);
    expect((await postAs(d, { ts: clock.now(), values: { pm25: 3 } })).status).toBe(201);
  });
});
