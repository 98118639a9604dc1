import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../helpers/platform-harness.ts';

/**
 * The REST half of the bad-input corpus: every route family with missing, extra, wrongly typed, oversized
 * and injection-shaped fields, bad dates and time zones. Each case: the status and code in the JSON
 * answer (and the field where one is named), the request counter of that route and status moved, no
 * device and no key created or changed, and the API still answering everyone else.
 */
interface RestCase {
  name: string;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT';
  path: string | ((ctx: Ctx) => string);
  body?: unknown;
  /** Sent as is, with `contentType` (default application/json). */
  raw?: string;
  contentType?: string;
  status: number;
  code: string;
  field?: string;
}

interface Ctx {
  deviceId: string;
}

const BODY_LIMIT = 16 * 1024;
const valid = { kind: 'noise-monitor', district: 'Old Town' };
const series = (q: string) => `/api/series?${q}`;
const iso = (ms: number) => new Date(ms).toISOString();
const HOUR = 3_600_000;
const t0 = Date.UTC(2025, 0, 15);
const okRange = `from=${iso(t0)}&to=${iso(t0 + HOUR)}`;

const cases: RestCase[] = [
  // POST /api/devices: missing, extra, wrongly typed, oversized
  { name: 'provision: no body', method: 'POST', path: '/api/devices', status: 400, code: 'API_VALIDATION' },
  {
    name: 'provision: missing kind',
    method: 'POST',
    path: '/api/devices',
    body: { district: 'Old Town' },
    status: 400,
    code: 'API_VALIDATION',
    field: 'kind',
  },
  {
    name: 'provision: unknown kind',
    method: 'POST',
    path: '/api/devices',
    body: { ...valid, kind: 'toaster' },
    status: 400,
    code: 'DEVICES_UNKNOWN_KIND',
  },
  {
    name: 'provision: extra field',
    method: 'POST',
    path: '/api/devices',
    body: { ...valid, status: 'active' },
    status: 400,
    code: 'API_VALIDATION',
  },
  {
    name: 'provision: kind is a number',
    method: 'POST',
    path: '/api/devices',
    body: { ...valid, kind: 7 },
    status: 400,
    code: 'API_VALIDATION',
    field: 'kind',
  },
  {
    name: 'provision: district empty',
    method: 'POST',
    path: '/api/devices',
    body: { ...valid, district: '   ' },
    status: 400,
    code: 'API_VALIDATION',
    field: 'district',
  },
  {
    name: 'provision: district with control characters',
    method: 'POST',
    path: '/api/devices',
    body: { ...valid, district: 'Old\u0000Town' },
    status: 400,
    code: 'API_VALIDATION',
    field: 'district',
  },
  {
    name: 'provision: district of 10 000 characters',
    method: 'POST',
    path: '/api/devices',
    body: { ...valid, district: 'x'.repeat(10_000) },
    status: 400,
    code: 'API_VALIDATION',
    field: 'district',
  },
  {
    name: 'provision: id with SQL',
    method: 'POST',
    path: '/api/devices',
    body: { ...valid, id: "x'; DROP TABLE devices; --" },
    status: 400,
    code: 'API_VALIDATION',
    field: 'id',
  },
  {
    name: 'provision: id with path traversal',
    method: 'POST',
    path: '/api/devices',
    body: { ...valid, id: '../../etc/passwd' },
    status: 400,
    code: 'API_VALIDATION',
    field: 'id',
  },
  {
    name: 'provision: __proto__ key',
    method: 'POST',
    path: '/api/devices',
    raw: '{"kind":"noise-monitor","district":"Old Town","attributes":{"__proto__":{"admin":true}}}',
    status: 400,
    code: 'API_VALIDATION',
    field: 'attributes.__proto__',
  },
  {
    name: 'provision: constructor.prototype keys',
    method: 'POST',
    path: '/api/devices',
    raw: '{"kind":"noise-monitor","district":"Old Town","constructor":{"prototype":{"x":1}}}',
    status: 400,
    code: 'API_VALIDATION',
    field: 'constructor',
  },
  {
    name: 'provision: latitude 91',
    method: 'POST',
    path: '/api/devices',
    body: { ...valid, location: { lat: 91, lon: 0 } },
    status: 400,
    code: 'API_VALIDATION',
    field: 'location.lat',
  },
  {
    name: 'provision: location as a string',
    method: 'POST',
    path: '/api/devices',
    body: { ...valid, location: '51.5,0.1' },
    status: 400,
    code: 'API_VALIDATION',
    field: 'location',
  },
  {
    name: 'provision: attribute value an object',
    method: 'POST',
    path: '/api/devices',
    body: { ...valid, attributes: { mast: { h: 3 } } },
    status: 400,
    code: 'API_VALIDATION',
  },
  {
    name: 'provision: undeclared attribute',
    method: 'POST',
    path: '/api/devices',
    body: { ...valid, attributes: { colour: 'red' } },
    status: 400,
    code: 'API_VALIDATION',
    field: 'attributes.colour',
  },
  {
    name: 'provision: body over the size limit',
    method: 'POST',
    path: '/api/devices',
    raw: JSON.stringify({ ...valid, name: 'n'.repeat(BODY_LIMIT) }),
    status: 413,
    code: 'API_BODY_TOO_LARGE',
  },
  {
    name: 'provision: invalid JSON',
    method: 'POST',
    path: '/api/devices',
    raw: '{"kind": "noise-monitor",',
    status: 400,
    code: 'API_VALIDATION',
    field: 'body',
  },
  {
    name: 'provision: JSON array',
    method: 'POST',
    path: '/api/devices',
    raw: '[{"kind":"noise-monitor","district":"Old Town"}]',
    status: 400,
    code: 'API_VALIDATION',
  },
  {
    name: 'provision: text/plain body',
    method: 'POST',
    path: '/api/devices',
    raw: JSON.stringify(valid),
    contentType: 'text/plain',
    status: 400,
    code: 'API_VALIDATION',
  },
  {
    name: 'provision: deeply nested body',
    method: 'POST',
    path: '/api/devices',
    raw: `{"kind":"noise-monitor","district":"Old Town","attributes":${'{"a":'.repeat(40)}1${'}'.repeat(40)}}`,
    status: 400,
    code: 'API_VALIDATION',
  },
  {
    name: 'provision: an id already taken',
    method: 'POST',
    path: '/api/devices',
    body: { ...valid, id: 'taken-1' },
    status: 409,
    code: 'API_CONFLICT',
  },
  // GET /api/devices
  {
    name: 'list: limit 0',
    method: 'GET',
    path: '/api/devices?limit=0',
    status: 400,
    code: 'API_VALIDATION',
    field: 'limit',
  },
  {
    name: 'list: limit not a number',
    method: 'GET',
    path: '/api/devices?limit=ten',
    status: 400,
    code: 'API_VALIDATION',
    field: 'limit',
  },
  {
    name: 'list: limit huge',
    method: 'GET',
    path: '/api/devices?limit=1e9',
    status: 400,
    code: 'API_VALIDATION',
    field: 'limit',
  },
  {
    name: 'list: unknown parameter',
    method: 'GET',
    path: '/api/devices?sort=kind',
    status: 400,
    code: 'API_VALIDATION',
  },
  {
    name: 'list: unknown status',
    method: 'GET',
    path: '/api/devices?status=deleted',
    status: 400,
    code: 'API_VALIDATION',
    field: 'status',
  },
  {
    name: 'list: nested query object',
    method: 'GET',
    path: '/api/devices?kind[$ne]=x',
    status: 400,
    code: 'API_VALIDATION',
  },
  // /api/devices/:id
  {
    name: 'device: id with upper case and dots',
    method: 'GET',
    path: '/api/devices/..%2F..%2Fetc%2Fpasswd',
    status: 400,
    code: 'API_VALIDATION',
    field: 'id',
  },
  {
    name: 'device: unknown id',
    method: 'GET',
    path: '/api/devices/nobody-here',
    status: 404,
    code: 'DEVICES_NOT_FOUND',
  },
  {
    name: 'update: empty patch',
    method: 'PATCH',
    path: (c) => `/api/devices/${c.deviceId}`,
    body: {},
    status: 400,
    code: 'API_VALIDATION',
  },
  {
    name: 'update: status is not patchable',
    method: 'PATCH',
    path: (c) => `/api/devices/${c.deviceId}`,
    body: { status: 'disabled' },
    status: 400,
    code: 'API_VALIDATION',
  },
  {
    name: 'update: name wrongly typed',
    method: 'PATCH',
    path: (c) => `/api/devices/${c.deviceId}`,
    body: { name: ['a'] },
    status: 400,
    code: 'API_VALIDATION',
    field: 'name',
  },
  {
    name: 'disable: unknown device',
    method: 'POST',
    path: '/api/devices/nobody-here/disable',
    status: 404,
    code: 'DEVICES_NOT_FOUND',
  },
  {
    name: 'rotate: id with SQL',
    method: 'POST',
    path: "/api/devices/x'%20OR%201=1/rotate-password",
    status: 400,
    code: 'API_VALIDATION',
    field: 'id',
  },
  // /api/series: dates, time zones, scopes
  {
    name: 'series: no metric',
    method: 'GET',
    path: (c) => series(`device=${c.deviceId}&${okRange}`),
    status: 400,
    code: 'API_VALIDATION',
    field: 'metric',
  },
  {
    name: 'series: from not a date',
    method: 'GET',
    path: (c) => series(`device=${c.deviceId}&metric=laeq&from=yesterday&to=${iso(t0)}`),
    status: 400,
    code: 'API_VALIDATION',
    field: 'from',
  },
  {
    name: 'series: from without an offset',
    method: 'GET',
    path: (c) => series(`device=${c.deviceId}&metric=laeq&from=2025-01-15T00:00:00&to=${iso(t0 + HOUR)}`),
    status: 400,
    code: 'API_VALIDATION',
    field: 'from',
  },
  {
    name: 'series: offset +25:00',
    method: 'GET',
    path: (c) =>
      series(`device=${c.deviceId}&metric=laeq&from=2025-01-15T00:00:00%2B25:00&to=${iso(t0 + HOUR)}`),
    status: 400,
    code: 'API_VALIDATION',
    field: 'from',
  },
  {
    name: 'series: February 30th',
    method: 'GET',
    path: (c) => series(`device=${c.deviceId}&metric=laeq&from=2025-02-30T00:00:00Z&to=2025-03-02T00:00:00Z`),
    status: 400,
    code: 'API_VALIDATION',
    field: 'from',
  },
  {
    name: 'series: to before from',
    method: 'GET',
    path: (c) => series(`device=${c.deviceId}&metric=laeq&from=${iso(t0 + HOUR)}&to=${iso(t0)}`),
    status: 400,
    code: 'API_VALIDATION',
    field: 'to',
  },
  {
    name: 'series: two scopes',
    method: 'GET',
    path: (c) => series(`device=${c.deviceId}&city=true&metric=laeq&${okRange}`),
    status: 400,
    code: 'API_VALIDATION',
    field: 'device',
  },
  {
    name: 'series: metric with SQL',
    method: 'GET',
    path: (c) => series(`device=${c.deviceId}&metric=laeq;DROP%20TABLE%20points&${okRange}`),
    status: 400,
    code: 'API_VALIDATION',
    field: 'metric',
  },
  {
    name: 'series: step unknown',
    method: 'GET',
    path: (c) => series(`device=${c.deviceId}&metric=laeq&step=second&${okRange}`),
    status: 400,
    code: 'API_VALIDATION',
    field: 'step',
  },
  {
    name: 'series: too many buckets',
    method: 'GET',
    path: (c) =>
      series(
        `device=${c.deviceId}&metric=laeq&step=minute&from=2000-01-01T00:00:00Z&to=2030-01-01T00:00:00Z`,
      ),
    status: 400,
    code: 'API_VALIDATION',
    field: 'step',
  },
  {
    name: 'series: metric the kind lacks',
    method: 'GET',
    path: (c) => series(`device=${c.deviceId}&metric=pm25&${okRange}`),
    status: 400,
    code: 'API_VALIDATION',
    field: 'metric',
  },
  // /api/keys
  {
    name: 'key: unknown role',
    method: 'POST',
    path: '/api/keys',
    body: { name: 'x', role: 'superadmin' },
    status: 400,
    code: 'API_VALIDATION',
    field: 'role',
  },
  {
    name: 'key: name with a newline',
    method: 'POST',
    path: '/api/keys',
    body: { name: 'a\nb', role: 'viewer' },
    status: 400,
    code: 'API_VALIDATION',
    field: 'name',
  },
  {
    name: 'key: extra field',
    method: 'POST',
    path: '/api/keys',
    body: { name: 'x', role: 'viewer', key: 'chosen-by-me' },
    status: 400,
    code: 'API_VALIDATION',
  },
  {
    name: 'key: name missing',
    method: 'POST',
    path: '/api/keys',
    body: { role: 'viewer' },
    status: 400,
    code: 'API_VALIDATION',
    field: 'name',
  },
  {
    name: 'key: revoke with path traversal',
    method: 'DELETE',
    path: '/api/keys/..%2Fadmin',
    status: 400,
    code: 'API_VALIDATION',
    field: 'id',
  },
  {
    name: 'key: revoke an unknown key',
    method: 'DELETE',
    path: '/api/keys/doesnotexist',
    status: 404,
    code: 'API_NOT_FOUND',
  },
  // anywhere
  { name: 'unknown route', method: 'GET', path: '/api/../../etc/passwd', status: 404, code: 'API_NOT_FOUND' },
  {
    name: 'unknown method on a route',
    method: 'PUT',
    path: '/api/devices',
    body: valid,
    status: 404,
    code: 'API_NOT_FOUND',
  },
  // KPIs: unknown codes, bad periods, manual values and sheet imports with bad rows
  {
    name: 'kpi: unknown code',
    method: 'GET',
    path: '/api/kpis/XX-YY-ZZ-9C',
    status: 404,
    code: 'METRICS_UNKNOWN_KPI',
  },
  {
    name: 'kpi: path traversal in code',
    method: 'GET',
    path: '/api/kpis/..%2F..%2Fetc%2Fpasswd',
    status: 404,
    code: 'METRICS_UNKNOWN_KPI',
  },
  {
    name: 'kpi lineage: bad period',
    method: 'GET',
    path: '/api/kpis/EN-EN-AQ-1C/lineage?period=2026-13',
    status: 400,
    code: 'METRICS_PERIOD_INVALID',
  },
  {
    name: 'kpi value: unit of another KPI',
    method: 'POST',
    path: '/api/kpis/SC-EH-ED-1C/values',
    body: { period: '2025', value: 95, unit: 'µg/m³', dataQuality: 'accurate-measurement', source: 'census' },
    status: 400,
    code: 'METRICS_UNIT_MISMATCH',
  },
  {
    name: 'kpi value: SQL in the period',
    method: 'POST',
    path: '/api/kpis/SC-EH-ED-1C/values',
    body: {
      period: "2025'; DROP TABLE manual_values; --",
      value: 95,
      unit: '%',
      dataQuality: 'accurate-measurement',
      source: 'census',
    },
    status: 400,
    code: 'API_VALIDATION',
  },
  {
    name: 'rollup: bad period',
    method: 'GET',
    path: '/api/rollups/2025-00',
    status: 400,
    code: 'API_VALIDATION',
  },
  {
    name: 'import: CSV with a bad row names row and column',
    method: 'POST',
    path: '/api/manual-inputs/import',
    raw: 'code,period,value,unit,data_quality,source\nSC-EH-ED-1C,2025,95,%,accurate-measurement,census\nSC-EH-ED-1C,2025,ninety,%,accurate-measurement,census\n',
    contentType: 'text/csv',
    status: 400,
    code: 'METRICS_IMPORT_INVALID',
    field: 'row 3, value',
  },
  {
    name: 'city profile: unknown time zone',
    method: 'PUT',
    path: '/api/city-profile',
    body: { timeZone: 'Mars/Olympus_Mons' },
    status: 400,
    code: 'API_VALIDATION',
  },
];

describe(`bad REST input: ${cases.length} cases`, () => {
  let t: TestPlatform;
  let ctx: Ctx;
  beforeAll(async () => {
    t = await startTestPlatform({ httpBodyLimitBytes: BODY_LIMIT });
    ctx = { deviceId: (await t.provision('noise-monitor', 'Old Town')).id };
    expect((await t.api('POST', '/api/devices', { ...valid, id: 'taken-1' })).status).toBe(201);
  });
  afterAll(async () => {
    await t.close();
  });

  /** What must not change: the devices (with their versions of every field) and the keys. */
  const snapshot = async () => {
    const devices = await t.api<{ items: unknown[] }>('GET', '/api/devices?limit=1000');
    const keys = await t.api<{ items: unknown[] }>('GET', '/api/keys');
    return JSON.stringify([devices.body, keys.body]);
  };

  /** citymetrics_http_requests_total for a status, summed over routes. */
  const requestsWithStatus = async (status: number) => {
    const text = await (await fetch(`${t.addresses.httpUrl}/metrics`)).text();
    let sum = 0;
    for (const line of text.split('\n')) {
      if (line.startsWith('citymetrics_http_requests_total{') && line.includes(`status="${status}"`))
        sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return sum;
  };

  it.each(cases)('$name → $status $code', async (c) => {
    const before = await snapshot();
    const counted = await requestsWithStatus(c.status);
    const path = typeof c.path === 'function' ? c.path(ctx) : c.path;
    const body = c.raw ?? (c.body === undefined ? undefined : JSON.stringify(c.body));
    const res = await fetch(`${t.addresses.httpUrl}${path}`, {
      method: c.method,
      headers: {
        authorization: `Bearer ${t.adminToken}`,
        ...(body !== undefined ? { 'content-type': c.contentType ?? 'application/json' } : {}),
      },
      body,
    });
    const json = (await res.json()) as { error?: { code: string; field?: string } };
    expect(res.status).toBe(c.status);
    expect(json.error?.code).toBe(c.code);
    if (c.field !== undefined) expect(json.error?.field).toBe(c.field);
    expect(await requestsWithStatus(c.status)).toBe(counted + 1);
    expect(await snapshot()).toBe(before);
    // Everyone else is still served.
    expect((await t.api('GET', `/api/devices/${ctx.deviceId}`)).status).toBe(200);
  });

  it('injection-shaped text where free text is allowed is stored as text, and changes nothing else', async () => {
    const sql = "Old Town'); DROP TABLE devices; --";
    const created = await t.provision('noise-monitor', sql);
    const got = await t.api<{ district: string }>('GET', `/api/devices/${created.id}`);
    expect(got.body.district).toBe(sql);
    const search = await t.api<{ items: unknown[] }>(
      'GET',
      `/api/devices?q=${encodeURIComponent("' OR 1=1 --")}`,
    );
    expect(search.status).toBe(200);
    expect(search.body.items).toEqual([]);
    const all = await t.api<{ total: number }>('GET', '/api/devices');
    expect(all.body.total).toBe(3);
    // A prototype-polluting key anywhere in a body never reached Object.prototype.
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });
});
