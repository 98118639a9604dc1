import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEADLINE_TILES } from '../../dashboards/http/tile-defaults.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/platform-harness.ts';

/** The overview's tile layouts through the API: the default, an admin's choice per role, the refusals. */

interface Layout {
  role: string;
  codes: string[];
  configured: boolean;
  updatedBy: string | null;
  updatedAt: string | null;
}

describe('tile layouts API', () => {
  let t: TestPlatform;
  let viewer: string;
  let analyst: string;

  beforeAll(async () => {
    t = await startTestPlatform();
    viewer = (await t.platform.apiKeys.create({ role: 'viewer', name: 'wall' })).token;
    analyst = (await t.platform.apiKeys.create({ role: 'analyst', name: 'stats office' })).token;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers the default when none was saved: sensor headline KPIs first, then coverage ratios', async () => {
    const res = await t.api<Layout>('GET', '/api/tile-layouts/viewer', undefined, viewer);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ role: 'viewer', configured: false, updatedBy: null, updatedAt: null });
    expect(res.body.codes.slice(0, 5)).toEqual([
      'EN: EN: AQ: 1C',
      'EN: EN: EQ: 2A',
      'EN: EN: WS: 1C',
      'EN: EN: WS: 2C',
      'EC: I: WS: 3C',
    ]);
    expect(res.body.codes.slice(0, HEADLINE_TILES.length)).toEqual(HEADLINE_TILES);
    // after the headline: coverage ratios (ICT instrumentation shares), never a manual-only KPI
    const kpis = await t.api<{ items: Array<{ code: string; obtained: string }> }>('GET', '/api/kpis');
    const obtained = new Map(kpis.body.items.map((k) => [k.code, k.obtained]));
    const after = res.body.codes.slice(HEADLINE_TILES.length);
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((c) => c.startsWith('EC: ICT:') && obtained.get(c) !== 'manual')).toBe(true);
  });

  it('saves an admin’s choice per role, compact codes accepted, and a viewer reads it', async () => {
    const put = await t.api<Layout>('PUT', '/api/tile-layouts/viewer', {
      codes: ['EC-I-T-5A', 'EN: EN: EQ: 2A', 'EN-EN-AQ-1C'],
    });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({
      role: 'viewer',
      configured: true,
      codes: ['EC: I: T: 5A', 'EN: EN: EQ: 2A', 'EN: EN: AQ: 1C'],
      updatedBy: expect.stringContaining('test'),
    });
    const got = await t.api<Layout>('GET', '/api/tile-layouts/viewer', undefined, viewer);
    expect(got.body.codes).toEqual(['EC: I: T: 5A', 'EN: EN: EQ: 2A', 'EN: EN: AQ: 1C']);
    expect(Number.isFinite(Date.parse(got.body.updatedAt!))).toBe(true);
    // another role keeps its default
    const operator = await t.api<Layout>('GET', '/api/tile-layouts/operator', undefined, viewer);
    expect(operator.body.configured).toBe(false);
  });

  it('lets only an admin change a layout', async () => {
    const body = { codes: ['EN-EN-AQ-1C'] };
    const byViewer = await t.api<{ error: { code: string } }>(
      'PUT',
      '/api/tile-layouts/viewer',
      body,
      viewer,
    );
    expect([byViewer.status, byViewer.body.error.code]).toEqual([403, 'API_FORBIDDEN']);
    const byAnalyst = await t.api('PUT', '/api/tile-layouts/viewer', body, analyst);
    expect(byAnalyst.status).toBe(403);
    expect((await t.api('DELETE', '/api/tile-layouts/viewer', undefined, analyst)).status).toBe(403);
    const still = await t.api<Layout>('GET', '/api/tile-layouts/viewer', undefined, viewer);
    expect(still.body.codes[0]).toBe('EC: I: T: 5A');
  });

  it('refuses unknown KPIs, repeats, an empty list and an unknown role, naming the entry', async () => {
    const unknown = await t.api<{ error: { code: string; field: string } }>(
      'PUT',
      '/api/tile-layouts/viewer',
      {
        codes: ['EN-EN-AQ-1C', 'XX-YY-ZZ-1C'],
      },
    );
    expect([unknown.status, unknown.body.error.code, unknown.body.error.field]).toEqual([
      400,
      'API_VALIDATION',
      'body.codes.1',
    ]);
    const twice = await t.api<{ error: { code: string; field: string } }>('PUT', '/api/tile-layouts/viewer', {
      codes: ['EN-EN-AQ-1C', 'EN: EN: AQ: 1C'],
    });
    expect([twice.status, twice.body.error.field]).toEqual([400, 'body.codes.1']);
    expect((await t.api('PUT', '/api/tile-layouts/viewer', { codes: [] })).status).toBe(400);
    expect((await t.api('PUT', '/api/tile-layouts/root', { codes: ['EN-EN-AQ-1C'] })).status).toBe(400);
    const kept = await t.api<Layout>('GET', '/api/tile-layouts/viewer');
    expect(kept.body.codes).toEqual(['EC: I: T: 5A', 'EN: EN: EQ: 2A', 'EN: EN: AQ: 1C']);
  });

  it('goes back to the default when the admin resets it', async () => {
    expect((await t.api('DELETE', '/api/tile-layouts/viewer')).status).toBe(204);
    const res = await t.api<Layout>('GET', '/api/tile-layouts/viewer', undefined, viewer);
    expect(res.body.configured).toBe(false);
    expect(res.body.codes[0]).toBe('EN: EN: AQ: 1C');
  });

  it('describes the routes in the OpenAPI document with their schemas', async () => {
    const doc = await t.api<{
      paths: Record<string, Record<string, { security: unknown[] }>>;
      components: { schemas: Record<string, unknown> };
    }>('GET', '/api/openapi.json');
    const path = doc.body.paths['/api/tile-layouts/{role}'];
    expect(Object.keys(path ?? {}).sort()).toEqual(['delete', 'get', 'put']);
    expect(doc.body.components.schemas).toHaveProperty('TileLayout');
    expect(doc.body.components.schemas).toHaveProperty('TileLayoutUpdate');
  });
});
