import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { type HttpHarness, startHttpHarness, T0 } from './http-test-harness.ts';

let h: HttpHarness;

beforeAll(async () => {
  h = await startHttpHarness();
});
afterAll(async () => {
  await h.close();
});

async function connected(): Promise<Socket> {
  const socket = io(h.url, {
    path: '/socket.io',
    transports: ['websocket'],
    reconnection: false,
    auth: { token: h.tokens.viewer },
  });
  onTestFinished(() => {
    socket.close();
  });
  await new Promise((resolve) => socket.once('snapshot', resolve));
  return socket;
}

const next = <T>(socket: Socket, event: string): Promise<T> =>
  new Promise((resolve) => socket.once(event, (payload: T) => resolve(payload)));

describe('live hub pushes for the operations page', () => {
  it('pushes per-device activity: readings and refusals by reason since the last push', async () => {
    const socket = await connected();
    const { device } = await h.registry.provision({ kind: 'air-quality-station', district: 'Harbour' });
    // Summed over what arrives until both are counted, as the page does: pushes may split them.
    const total = { readings: 0, refused: {} as Record<string, number> };
    const counted = new Promise<void>((resolve) => {
      socket.on(
        'device-activity',
        (msg: { items: Array<{ deviceId: string; readings: number; refused: Record<string, number> }> }) => {
          for (const item of msg.items) {
            expect(item.deviceId).toBe(device.id);
            total.readings += item.readings;
            for (const [code, n] of Object.entries(item.refused))
              total.refused[code] = (total.refused[code] ?? 0) + n;
          }
          if (total.readings === 2 && total.refused.INGEST_MALFORMED_JSON === 1) resolve();
        },
      );
    });
    const reading = Buffer.from(JSON.stringify({ ts: T0, values: { pm25: 3, pm10: 7 } }));
    expect(await h.ingest.submit(device.id, 'telemetry', reading)).toMatchObject({ ok: true });
    await h.ingest.submit(device.id, 'telemetry', Buffer.from('{oops'));
    h.live.flush();
    await counted;
    expect(total).toEqual({ readings: 2, refused: { INGEST_MALFORMED_JSON: 1 } });
  });

  it('forwards KPI updates coalesced per KPI and period kind (latest wins), and restatements', async () => {
    const socket = await connected();
    const kpis: Array<{ code: string; value: unknown }> = [];
    socket.on('kpi', (k: { code: string; value: unknown }) => kpis.push(k));
    const revised = next<{ code: string; version: number }>(socket, 'kpi-revised');
    const update = (value: number) =>
      h.events.emit('kpi-updated', {
        code: 'EN: EN: AQ: 1C',
        periodKind: 'month-to-date',
        value: { value },
        score: null,
      });
    update(10);
    update(12);
    h.events.emit('kpi-revised', {
      code: 'EN: EN: AQ: 1C',
      dataPoint: 'PM2.5',
      period: '2026-02',
      version: 2,
      oldValue: 10,
      newValue: 11,
      cause: 'late data',
      causes: [{ kind: 'late-data' }],
    });
    h.live.flush();
    expect(await revised).toMatchObject({ code: 'EN: EN: AQ: 1C', version: 2 });
    // Emitted before kpi-revised in the same flush: already received.
    expect(kpis).toEqual([
      { code: 'EN: EN: AQ: 1C', periodKind: 'month-to-date', value: { value: 12 }, score: null },
    ]);
  });
});
