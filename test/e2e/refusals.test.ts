import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextMessage, startTestPlatform, type TestPlatform } from '../helpers/platform-harness.ts';

/**
 * Every refusal reason of the ingest path, over real MQTT: the device gets the code (and the offending
 * field) on devices/{id}/errors, the counter for that reason moves, and nothing is stored.
 */
const now = () => Date.now() - 1_000;
const cases: Array<{ name: string; payload: () => string | Buffer; code: string; field?: string }> = [
  { name: 'empty payload', payload: () => '', code: 'INGEST_EMPTY_PAYLOAD' },
  { name: 'invalid JSON', payload: () => '{"ts": 1, "values": {', code: 'INGEST_MALFORMED_JSON' },
  {
    name: 'wrong type of values',
    payload: () => JSON.stringify({ ts: now(), values: { pm25: 'high' } }),
    code: 'INGEST_SCHEMA',
    field: 'values.pm25',
  },
  {
    name: 'extra field',
    payload: () => JSON.stringify({ ts: now(), values: { pm25: 1 }, hack: true }),
    code: 'INGEST_SCHEMA',
  },
  {
    name: 'unknown metric',
    payload: () => JSON.stringify({ ts: now(), values: { radon: 3 } }),
    code: 'INGEST_UNKNOWN_METRIC',
    field: 'values.radon',
  },
  {
    name: 'unknown unit',
    payload: () => JSON.stringify({ ts: now(), values: { no2: { value: 3, unit: 'furlongs' } } }),
    code: 'INGEST_UNKNOWN_UNIT',
    field: 'values.no2.unit',
  },
  {
    name: 'out of range',
    payload: () => JSON.stringify({ ts: now(), values: { pm25: -4 } }),
    code: 'INGEST_OUT_OF_RANGE',
    field: 'values.pm25',
  },
  {
    name: 'infinite value',
    payload: () => `{"ts": ${now()}, "values": {"pm25": 1e400}}`,
    code: 'INGEST_NOT_FINITE',
    field: 'values.pm25',
  },
  {
    name: 'bad timestamp',
    payload: () => JSON.stringify({ ts: 'yesterday', values: { pm25: 3 } }),
    code: 'INGEST_TS_INVALID',
  },
  {
    name: 'far future',
    payload: () => JSON.stringify({ ts: Date.now() + 3_600_000, values: { pm25: 3 } }),
    code: 'INGEST_TS_FUTURE',
  },
  {
    name: 'too old',
    payload: () => JSON.stringify({ ts: Date.now() - 30 * 86_400_000, values: { pm25: 3 } }),
    code: 'INGEST_TS_TOO_OLD',
  },
  {
    name: 'deep nesting',
    payload: () => `{"ts": 1, "values": ${'['.repeat(50)}${']'.repeat(50)}}`,
    code: 'INGEST_TOO_DEEP',
  },
  { name: 'oversized', payload: () => Buffer.alloc(5_000, 0x20), code: 'GATEWAY_PAYLOAD_TOO_LARGE' },
];

describe('refused readings: code on the errors topic, counter moved, nothing stored', () => {
  let t: TestPlatform;
  let client: MqttClient;
  let deviceId: string;
  beforeAll(async () => {
    t = await startTestPlatform({ mqttMaxPayloadBytes: 4_096 });
    const dev = await t.provision('air-quality-station', 'Old Town');
    deviceId = dev.id;
    client = await t.connect(dev.id, dev.password);
    await client.subscribeAsync(`devices/${dev.id}/errors`, { qos: 1 });
  });
  afterAll(async () => {
    await t.close();
  });

  it.each(cases)('$name → $code', async ({ payload, code, field }) => {
    const before = await t.api<{ refused: { byReason: Record<string, number> } }>('GET', '/api/ingest/stats');
    const error = nextMessage(client, `devices/${deviceId}/errors`);
    await client.publishAsync(`devices/${deviceId}/telemetry`, payload(), { qos: 1 });
    const message = await error;
    expect(message.code).toBe(code);
    if (field !== undefined) expect(message.field).toBe(field);
    expect(message.topic).toBe(`devices/${deviceId}/telemetry`);
    const after = await t.api<{ refused: { byReason: Record<string, number> } }>('GET', '/api/ingest/stats');
    expect((after.body.refused.byReason[code] ?? 0) - (before.body.refused.byReason[code] ?? 0)).toBe(1);
    await t.platform.ingest.drain();
    const latest = await t.api<{ values: unknown[] }>('GET', `/api/devices/${deviceId}/latest`);
    expect(latest.body.values).toEqual([]);
  });

  it('an unknown event type is refused with its own code', async () => {
    const error = nextMessage(client, `devices/${deviceId}/errors`);
    await client.publishAsync(
      `devices/${deviceId}/events`,
      JSON.stringify({ ts: now(), type: 'explosion' }),
      { qos: 1 },
    );
    expect((await error).code).toBe('INGEST_UNKNOWN_EVENT');
  });

  it('a mixed batch is refused whole: the valid reading in it is not stored either', async () => {
    const error = nextMessage(client, `devices/${deviceId}/errors`);
    const batch = [
      { ts: now(), values: { pm25: 5 } },
      { ts: now(), values: { pm25: 5000 } },
    ];
    await client.publishAsync(`devices/${deviceId}/telemetry`, JSON.stringify(batch), { qos: 1 });
    const message = await error;
    expect(message.code).toBe('INGEST_OUT_OF_RANGE');
    expect(message.field).toBe('[1].values.pm25');
    await t.platform.ingest.drain();
    const latest = await t.api<{ values: unknown[] }>('GET', `/api/devices/${deviceId}/latest`);
    expect(latest.body.values).toEqual([]);
  });
});
