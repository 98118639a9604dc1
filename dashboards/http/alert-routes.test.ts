import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../../test/helpers/platform-harness.ts';

let t: TestPlatform;
let viewer: string;
let operator: string;

beforeAll(async () => {
  t = await startTestPlatform({ livePushIntervalMs: 20 });
  viewer = (await t.platform.apiKeys.create({ role: 'viewer', name: 'wall' })).token;
  operator = (await t.platform.apiKeys.create({ role: 'operator', name: 'duty officer' })).token;
});
afterAll(async () => {
  await t.close();
});

interface AlertJson {
  id: string;
  state: string;
  subject: string;
  acknowledgedBy: string | null;
}

describe('alert routes', () => {
  it('lets viewers read, operators manage rules and acknowledge; pushes the alert live', async () => {
    const rule = {
      name: 'NO2 high',
      severity: 'critical',
      // Opens at the first reading above (the default waits 5 minutes of reading time).
      condition: {
        kind: 'series-threshold',
        scope: 'district',
        metric: 'no2',
        op: '>',
        value: 200,
        forMinutes: 0,
      },
    };
    expect((await t.api('POST', '/api/alert-rules', rule, viewer)).status).toBe(403);
    const created = await t.api<{ id: string; createdBy: string }>(
      'POST',
      '/api/alert-rules',
      rule,
      operator,
    );
    expect(created.status).toBe(201);
    expect(created.body.createdBy).toBe('duty officer');
    const bad = await t.api<{ error: { code: string } }>(
      'POST',
      '/api/alert-rules',
      { ...rule, condition: { ...rule.condition, op: '>=' } },
      operator,
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('API_VALIDATION');
    expect(
      (await t.api<{ items: unknown[] }>('GET', '/api/alert-rules', undefined, viewer)).body.items,
    ).toHaveLength(1);

    const socket = io(t.addresses.httpUrl, {
      path: '/socket.io',
      transports: ['websocket'],
      auth: { token: viewer },
    });
    const pushed = new Promise<AlertJson>((resolve) =>
      socket.on('alert', (msg: { items: AlertJson[] }) => resolve(msg.items[0]!)),
    );
    await new Promise((r) => socket.once('snapshot', r));

    const device = await t.provision('air-quality-station', 'Harbour');
    const client = await t.connect(device.id, device.password);
    await client.publishAsync(
      `devices/${device.id}/telemetry`,
      JSON.stringify({ ts: Date.now(), values: { no2: 250 } }),
      {
        qos: 1,
      },
    );
    const live = await pushed;
    socket.close();
    expect(live).toMatchObject({ state: 'open', subject: 'Harbour' });

    const list = await t.api<{ items: AlertJson[]; total: number }>(
      'GET',
      '/api/alerts?state=open',
      undefined,
      viewer,
    );
    expect(list.body.items.map((a) => a.id)).toEqual([live.id]);
    expect((await t.api('POST', `/api/alerts/${live.id}/acknowledge`, undefined, viewer)).status).toBe(403);
    const acked = await t.api<AlertJson>('POST', `/api/alerts/${live.id}/acknowledge`, undefined, operator);
    expect(acked.body).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'duty officer' });
    expect((await t.api('POST', `/api/alerts/${live.id}/acknowledge`, undefined, operator)).status).toBe(409);
    expect((await t.api('POST', '/api/alerts/a000000000000/acknowledge', undefined, operator)).status).toBe(
      404,
    );

    expect((await t.api('DELETE', `/api/alert-rules/${created.body.id}`, undefined, operator)).status).toBe(
      204,
    );
    const after = await t.api<{ items: AlertJson[] }>('GET', '/api/alerts?state=cleared', undefined, viewer);
    expect(after.body.items.map((a) => a.id)).toEqual([live.id]);
  });
});
