import { z } from 'zod';
import { type AnyRoute, defineRoute } from '../define-route.ts';
import type { IngestStatsSource } from '../http-deps.ts';

const count = z.number();

// Documents the fields the dashboards rely on; ingest may report more, and they are passed through.
export const ingestStatsSchema = z
  .looseObject({
    accepted: z.looseObject({ messages: count, readings: count, values: count }),
    refused: z.looseObject({
      total: count,
      byReason: z.record(z.string(), count).meta({ description: 'refusals by catalogue code' }),
    }),
    rates: z.looseObject({ acceptedPerSec: count, refusedPerSec: count }),
  })
  .meta({ id: 'IngestStats', description: 'counters since start, rates, backlog, store latency and health' });

export function ingestStatsRoutes(deps: { ingest: IngestStatsSource }): AnyRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/api/ingest/stats',
      summary: 'Ingest counters and rates',
      tag: 'ingest',
      access: 'viewer',
      response: ingestStatsSchema,
      handle: () => deps.ingest.stats(),
    }),
  ];
}
