import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../helpers/platform-harness.ts';

/**
 * The routes behind the operations page's manual-inputs view and device connection snippet, on the whole
 * platform (KPI engine, broker listening on ephemeral ports).
 */

let t: TestPlatform;
let analyst: string;
let viewer: string;

beforeAll(async () => {
  t = await startTestPlatform();
  analyst = (await t.platform.apiKeys.create({ role: 'analyst', name: 'statistics office' })).token;
  viewer = (await t.platform.apiKeys.create({ role: 'viewer', name: 'wall' })).token;
}, 60_000);
afterAll(async () => {
  await t?.close();
});

const get = (path: string, token: string) =>
  fetch(`${t.addresses.httpUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });

describe('manual inputs', () => {
  it('serves the template, which imports as it is, and lists what was entered, newest first', async () => {
    const template = await get('/api/manual-inputs/template', viewer);
    expect(template.status).toBe(200);
    expect(template.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(template.headers.get('content-disposition')).toBe(
      'attachment; filename="manual-inputs-template.csv"',
    );
    const text = await template.text();
    expect(text).toContain('code,data_point,period,value,unit,data_quality,source,evidence');

    const imported = await fetch(`${t.addresses.httpUrl}/api/manual-inputs/import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${analyst}`, 'content-type': 'text/csv' },
      body: text,
    });
    expect(imported.status).toBe(201);
    expect(((await imported.json()) as { imported: number }).imported).toBe(1);

    const entered = await t.api(
      'POST',
      '/api/kpis/SC-EH-ED-1C/values',
      {
        period: '2025',
        value: 95,
        unit: '%',
        dataQuality: 'accurate-measurement',
        source: 'census 2025',
        evidence: 'https://example.org/census',
      },
      analyst,
    );
    expect(entered.status).toBe(201);

    const list = await t.api<{
      total: number;
      items: Array<{ subject: string; source: string; evidence: string }>;
    }>('GET', '/api/manual-inputs?subjectType=kpi', undefined, viewer);
    expect(list.status).toBe(200);
    expect(list.body.total).toBe(2);
    expect(list.body.items.map((i) => i.source)).toEqual([
      'census 2025',
      'Water utility annual report 2025 (example: replace or delete this row)',
    ]);
    const paged = await t.api<{ items: unknown[] }>(
      'GET',
      '/api/manual-inputs?limit=1&offset=1',
      undefined,
      viewer,
    );
    expect(paged.body.items).toHaveLength(1);
  });

  it('serves the XLSX template', async () => {
    const res = await get('/api/manual-inputs/template?format=xlsx', viewer);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    );
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.subarray(0, 2).toString()).toBe('PK');
    expect((await get('/api/manual-inputs/template?format=ods', viewer)).status).toBe(400);
  });
});

describe('device connection', () => {
  it('tells the ports the broker listens on, not the ephemeral 0 of the configuration', async () => {
    const device = await t.provision('noise-monitor', 'Harbour');
    const res = await t.api<{ host: string | null; ports: { mqtt: number; ws: number | null } }>(
      'GET',
      `/api/devices/${device.id}/connection`,
    );
    expect(res.status).toBe(200);
    expect(res.body.host).toBe('127.0.0.1');
    expect(res.body.ports.mqtt).toBe(t.addresses.mqttPort);
    expect(res.body.ports.ws).toBe(t.addresses.mqttWsPort);
    // and a client that follows it connects
    const client = await t.connect(device.id, device.password, { port: res.body.ports.mqtt });
    expect(client.connected).toBe(true);
  });
});
