import type { Request, Response } from 'express';
import { z } from 'zod';
import type { Clock } from '../../core/clock.ts';
import { CityError } from '../../core/errors.ts';
import type { DeviceRecord } from '../../core/ports/device-directory.ts';
import type { SeriesStore } from '../../core/ports/series-store.ts';
import type { KindCatalogue } from '../../devices/kind-catalogue.ts';
import type { DeviceRegistry } from '../../devices/registry.ts';
import type { KpiService } from '../../metrics/kpi-service.ts';
import { type AnyRoute, defineRoute } from '../http/define-route.ts';
import { deviceEntities } from './device-entities.ts';
import type { Entity } from './entity.ts';
import { kpiEntities } from './kpi-entities.ts';
import { DEVICE_MODELS, KPI_TYPE, modelOfKind } from './mapping.ts';
import { type EntityQuery, entityQuerySchema, matches, parseEntityQuery } from './query.ts';
import {
  CONTEXT_PATH,
  CONTEXT_URLS,
  contextLink,
  type MediaType,
  NGSI_LD_BASE,
  negotiate,
  render,
} from './render.ts';

export interface NgsiLdDeps {
  registry: DeviceRegistry;
  kinds: KindCatalogue;
  store: SeriesStore;
  clock: Clock;
  config: { cityName: string };
  /** Without the KPI service there are no KeyPerformanceIndicator entities. */
  kpis?: KpiService;
}

const entitySchema = z
  .object({ id: z.string(), type: z.string() })
  .loose()
  .meta({ id: 'NgsiLdEntity', description: 'an NGSI-LD entity, normalized or simplified (keyValues)' });

const singleQuerySchema = entityQuerySchema.pick({ type: true, attrs: true, options: true }).strict();
const idParams = z.object({ id: z.string().max(300).meta({ description: 'entity id (URN)' }) }).strict();

const DESCRIPTION =
  'NGSI-LD (ETSI GS CIM 009) read-only subset with FIWARE Smart Data Models. `Accept: application/ld+json` puts the @context in the body; `application/json` names it in a Link header. Errors are problem details (`type`, `title`, `detail`, `code`).';

/**
 * Read-only NGSI-LD context-consumer API: latest device observations as AirQualityObserved,
 * NoiseLevelObserved, TrafficFlowObserved, WaterConsumptionObserved and KPI values as
 * KeyPerformanceIndicator. Mapping: mapping.ts; README "NGSI-LD".
 */
export function ngsiLdRoutes(deps: NgsiLdDeps): AnyRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: `${NGSI_LD_BASE}/entities`,
      summary: 'Query NGSI-LD entities',
      description: `${DESCRIPTION} \`type\` is required; \`NGSILD-Results-Count\` answers \`count=true\`.`,
      tag: 'ngsi-ld',
      access: 'viewer',
      query: entityQuerySchema,
      response: z.array(entitySchema),
      handle: async ({ query, req, res }) => {
        const q = parseEntityQuery(query, { requireType: true });
        const found = (await collect(deps, q)).filter((e) => matches(e, q));
        found.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
        if (q.count) res.set('NGSILD-Results-Count', String(found.length));
        const media = negotiate(req);
        const page = found.slice(q.offset, q.offset + q.limit);
        send(
          req,
          res,
          media,
          page.map((e) => render(e, { ...q, media })),
        );
      },
    }),
    defineRoute({
      method: 'get',
      path: `${NGSI_LD_BASE}/entities/:id`,
      summary: 'One NGSI-LD entity',
      description: DESCRIPTION,
      tag: 'ngsi-ld',
      access: 'viewer',
      params: idParams,
      query: singleQuerySchema,
      response: entitySchema,
      handle: async ({ params, query, req, res }) => {
        const q = parseEntityQuery(query, { requireType: false });
        if (!/^[A-Za-z][A-Za-z0-9+.-]*:\S+$/.test(params.id))
          throw new CityError('API_VALIDATION', `not a URI: ${params.id}`, { field: 'id' });
        const entity = (await collect(deps, { ...q, ids: new Set([params.id]) })).find(
          (e) => e.id === params.id && (q.types === null || q.types.has(e.type)),
        );
        if (entity === undefined)
          throw new CityError('API_NOT_FOUND', `no entity ${params.id}`, { field: 'id' });
        const media = negotiate(req);
        send(req, res, media, render(entity, { ...q, media }));
      },
    }),
    defineRoute({
      method: 'get',
      path: CONTEXT_PATH,
      summary: 'The JSON-LD @context of the NGSI-LD entities',
      description:
        'What the Link header of an application/json answer points to. Public: JSON-LD processors fetch contexts without credentials, and it holds no data.',
      tag: 'ngsi-ld',
      access: 'public',
      responseContent: { 'application/ld+json': { schema: z.object({ '@context': z.array(z.string()) }) } },
      handle: ({ res }) => {
        res
          .status(200)
          .type('application/ld+json')
          .send(JSON.stringify({ '@context': CONTEXT_URLS }));
      },
    }),
  ];
}

function send(req: Request, res: Response, media: MediaType, body: unknown): void {
  if (media === 'application/json') res.set('Link', contextLink(req));
  res.status(200).type(media).send(JSON.stringify(body));
}

/**
 * The entities a query can match, built only for the types it names; the device registry is narrowed by
 * kind, id and district before any store read.
 */
async function collect(deps: NgsiLdDeps, q: EntityQuery): Promise<Entity[]> {
  const now = deps.clock.now();
  const wanted = (type: string) => q.types === null || q.types.has(type);
  const kinds = new Set(DEVICE_MODELS.filter((m) => wanted(m.type)).flatMap((m) => m.kinds));
  let devices: DeviceRecord[];
  if (q.ids !== null) {
    devices = [];
    for (const id of q.ids) {
      const m = /^urn:ngsi-ld:([A-Za-z]+):(.+)$/.exec(id);
      const device = m === null ? undefined : deps.registry.get(m[2]!);
      if (device !== undefined && modelOfKind(device.kind)?.type === m![1]) devices.push(device);
    }
  } else devices = deps.registry.all();
  devices = devices.filter((d) => kinds.has(d.kind) && (q.district === null || d.district === q.district));
  const out = await deviceEntities({ ...deps, cityName: deps.config.cityName }, devices, now);
  // KPIs are city-wide: no district filter selects them.
  if (deps.kpis !== undefined && wanted(KPI_TYPE) && q.district === null)
    out.push(...(await kpiEntities(deps.kpis, deps.config.cityName, now)));
  return out;
}
