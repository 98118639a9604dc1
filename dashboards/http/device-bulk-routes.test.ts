import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HttpHarness, startHttpHarness } from './http-test-harness.ts';

let h: HttpHarness;

beforeAll(async () => {
  // A broker this process does not run: the configured ports are what a device is told.
  h = await startHttpHarness({ config: { mqttHost: 'mqtt.city.example', mqttPort: 1883, mqttWsPort: 9001 } });
});
afterAll(async () => {
  await h.close();
});

interface BulkAnswer {
  created: Array<{ row: number; id: string; password: string; kind: string; attributes: object }>;
  errors: Array<{ row: number; column: string; code: string; message: string }>;
}

const csv = (rawBody: string, token?: string) =>
  h.api<BulkAnswer>('POST', '/api/devices/bulk', {
    rawBody,
    headers: { 'content-type': 'text/csv' },
    ...(token !== undefined ? { token } : {}),
  });

describe('POST /api/devices/bulk', () => {
  it('provisions the valid rows and names the bad ones by row and column', async () => {
    const res = await csv(
      [
        'kind,district,id,name,attributes.customersServed',
        'electricity-feeder-meter,Harbour,feeder-a,Feeder A,1200',
        'electricity-feeder-meter,Harbour,feeder-b,Feeder B,',
        'noise-monitor,Old Town,noise-a,,',
        'noise-monitor,Old Town,noise-a,,',
      ].join('\n'),
    );
    expect(res.status).toBe(200);
    expect(res.body.created.map((d) => [d.row, d.id])).toEqual([
      [2, 'feeder-a'],
      [4, 'noise-a'],
    ]);
    expect(res.body.created[0]!.attributes).toEqual({ customersServed: 1200 });
    expect(res.body.errors.map((e) => [e.row, e.column, e.code])).toEqual([
      // the kind requires the attribute: refused by the registry, named as the sheet's column
      [3, 'attributes.customersServed', 'API_VALIDATION'],
      // the id an earlier row of the same file took
      [5, 'id', 'API_CONFLICT'],
    ]);
    // The passwords work: each is the device's own.
    for (const d of res.body.created) {
      expect(d.password.length).toBeGreaterThan(16);
      expect(await h.registry.verifyCredentials(d.id, d.password)).toBe('ok');
    }
    expect(h.registry.get('feeder-b')).toBeUndefined();
  });

  it('provisions nothing from a file with a bad header', async () => {
    const res = await csv('kind,district,colour\nnoise-monitor,Riverside,blue\n');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      created: [],
      errors: [expect.objectContaining({ row: 1, column: 'colour', code: 'COLUMN_UNKNOWN' })],
    });
  });

  it('takes only text/csv, from an admin', async () => {
    const json = await h.api<{ error: { code: string; field: string } }>('POST', '/api/devices/bulk', {
      body: { kind: 'noise-monitor' },
    });
    expect([json.status, json.body.error.code, json.body.error.field]).toEqual([
      400,
      'API_VALIDATION',
      'content-type',
    ]);
    expect((await csv('kind,district\nnoise-monitor,Riverside\n', h.tokens.analyst)).status).toBe(403);
  });
});

describe('GET /api/devices/{id}/connection', () => {
  it('tells the configured broker and the device topics, never the password', async () => {
    const { id } = (await h.registry.provision({ kind: 'noise-monitor', district: 'Harbour' })).device;
    const res = await h.api<Record<string, unknown>>('GET', `/api/devices/${id}/connection`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      deviceId: id,
      username: id,
      clientId: id,
      host: 'mqtt.city.example',
      ports: { mqtt: 1883, mqtts: null, ws: 9001 },
      topics: {
        telemetry: `devices/${id}/telemetry`,
        events: `devices/${id}/events`,
        status: `devices/${id}/status`,
        errors: `devices/${id}/errors`,
        commands: `devices/${id}/commands`,
      },
    });
    expect((await h.api('GET', `/api/devices/${id}/connection`, { token: h.tokens.operator })).status).toBe(
      403,
    );
    expect((await h.api('GET', '/api/devices/nosuch/connection')).status).toBe(404);
  });
});

// Last: the server answers 413 before reading the rest, and then closes the connection.
describe('POST /api/devices/bulk, too large', () => {
  it('refuses a body over the HTTP body limit', async () => {
    const big = `kind,district,name\n${`noise-monitor,Riverside,${'x'.repeat(100)}\n`.repeat(12_000)}`;
    const res = await h.api<{ error: { code: string } }>('POST', '/api/devices/bulk', {
      rawBody: big,
      headers: { 'content-type': 'text/csv' },
    });
    expect([res.status, res.body.error?.code]).toEqual([413, 'API_BODY_TOO_LARGE']);
  });
});
