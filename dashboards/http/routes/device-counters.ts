import { Gauge, Registry } from 'prom-client';
import { z } from 'zod';
import { CityError } from '../../../core/errors.ts';
import type { DeviceRegistry } from '../../../devices/registry.ts';
import type { DeviceCounts } from '../../../ingest/device-counters.ts';
import { type AnyRoute, defineRoute } from '../define-route.ts';
import type { IngestStatsSource } from '../http-deps.ts';
import { deviceIdParams } from '../schemas/common.ts';

const count = z.number().int().nonnegative();

export const deviceCountsSchema = z
  .object({
    deviceId: z.string(),
    received: count.meta({ description: 'messages handed to ingest (MQTT or HTTP), accepted or not' }),
    accepted: z.object({ messages: count, readings: count, values: count }),
    refused: z.object({
      total: count,
      byReason: z.record(z.string(), count).meta({ description: 'refusals by catalogue code' }),
    }),
    stored: count.meta({ description: 'values written to the series store (a resent value is kept once)' }),
    seq: z
      .object({
        published: count.meta({
          description: 'seq numbers the device used (each run from lowest to highest)',
        }),
        seen: count.meta({ description: 'distinct seq numbers that arrived' }),
        gaps: count.meta({ description: 'seq numbers that never arrived' }),
        repeated: count.meta({ description: 'seq numbers that arrived again (resends)' }),
        restarts: count.meta({ description: 'times the numbers started again far below the highest' }),
        highest: z.number().int(),
      })
      .nullable()
      .meta({ description: "from the readings' seq field; null when the device sends none" }),
    lastAt: z.string().nullable().meta({ description: 'last message received, ISO 8601' }),
  })
  .meta({ id: 'DeviceCounters', description: 'since the platform started' });

const toJson = (c: DeviceCounts) => ({
  ...c,
  lastAt: c.lastAt === null ? null : new Date(c.lastAt).toISOString(),
});

const empty = (deviceId: string): DeviceCounts => ({
  deviceId,
  received: 0,
  accepted: { messages: 0, readings: 0, values: 0 },
  refused: { total: 0, byReason: {} },
  stored: 0,
  seq: null,
  lastAt: null,
});

/**
 * Per-device counters: `GET /api/devices/{id}/counters` for one device, `/metrics/devices` for all of them in
 * Prometheus form. The per-device series live apart from `/metrics` so that a city of 100 000 devices does
 * not make every scrape of the platform's own metrics that large; scrape it where per-device series are
 * wanted.
 */
export function deviceCounterRoutes(deps: {
  ingest: IngestStatsSource;
  registry: DeviceRegistry;
}): AnyRoute[] {
  const registry = new Registry();
  const gauge = (name: string, help: string, labelNames: string[] = []) =>
    new Gauge({ name, help, labelNames: ['device', ...labelNames], registers: [registry] });
  const received = gauge('citymetrics_device_messages_received', 'Messages handed to ingest, per device');
  const accepted = gauge('citymetrics_device_values_accepted', 'Values accepted, per device');
  const refused = gauge('citymetrics_device_messages_refused', 'Refusals per device and reason', ['reason']);
  const stored = gauge('citymetrics_device_values_stored', 'Values written to the series store, per device');
  const published = gauge('citymetrics_device_seq_published', 'seq numbers a device used');
  const gaps = gauge('citymetrics_device_seq_gaps', 'seq numbers that never arrived');

  return [
    defineRoute({
      method: 'get',
      path: '/api/devices/:id/counters',
      summary: 'What one device sent and what became of it',
      description:
        "Messages received, accepted, refused by reason, values stored, and from the device's own `seq` numbers how many it published and how many never arrived. Since the platform started.",
      tag: 'devices',
      access: 'viewer',
      params: deviceIdParams,
      response: deviceCountsSchema,
      handle: ({ params }) => {
        if (deps.registry.get(params.id) === undefined)
          throw new CityError('DEVICES_NOT_FOUND', `device ${params.id} is not registered`, { field: 'id' });
        return toJson(deps.ingest.devices.get(params.id) ?? empty(params.id));
      },
    }),
    defineRoute({
      method: 'get',
      path: '/metrics/devices',
      summary: 'Per-device counters, Prometheus',
      description:
        'Text exposition format, one series per device (and reason). Needs a key even where /metrics is public: it names every device.',
      tag: 'operations',
      access: 'viewer',
      responseContent: { 'text/plain': { schema: z.string() } },
      handle: async ({ res }) => {
        registry.resetMetrics();
        for (const c of deps.ingest.devices.all()) {
          const device = { device: c.deviceId };
          received.set(device, c.received);
          accepted.set(device, c.accepted.values);
          stored.set(device, c.stored);
          for (const [reason, n] of Object.entries(c.refused.byReason))
            refused.set({ ...device, reason }, n ?? 0);
          if (c.seq !== null) {
            published.set(device, c.seq.published);
            gaps.set(device, c.seq.gaps);
          }
        }
        res.type(registry.contentType).send(await registry.metrics());
      },
    }),
  ];
}
