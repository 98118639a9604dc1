import { z } from 'zod';
import type { Config } from '../../../core/config.ts';
import { CityError } from '../../../core/errors.ts';
import type { Bucket, SeriesScope, SeriesStore, Step } from '../../../core/ports/series-store.ts';
import { energyMetric, isSoundLevelUnit, levelOfEnergy } from '../../../core/sound-level.ts';
import type { KindCatalogue } from '../../../devices/kind-catalogue.ts';
import type { DeviceRegistry } from '../../../devices/registry.ts';
import { deviceIdSchema, districtSchema } from '../../../devices/registry-schema.ts';
import { type AnyRoute, defineRoute } from '../define-route.ts';
import { isoInstant, toIso } from '../schemas/common.ts';
import { kindBuckets } from './series-by-kind.ts';

const STEP_MS: Readonly<Record<Step, number>> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

export const seriesQuerySchema = z
  .object({
    device: deviceIdSchema.optional().meta({ description: 'one device' }),
    district: districtSchema.optional().meta({ description: 'all devices of a district' }),
    city: z.enum(['', 'true']).optional().meta({ description: 'the whole city (`?city` or `?city=true`)' }),
    kind: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,63}$/, 'a device kind id such as electricity-smart-meter')
      .optional()
      .meta({
        description:
          'only devices of this kind; needed in a district or the city when kinds there report the metric with different meanings (energy of customer meters, feeders and generation)',
      }),
    metric: z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, 'a metric name such as pm25'),
    from: z.iso.datetime({ offset: true }).meta({ description: 'inclusive, ISO-8601' }),
    to: z.iso.datetime({ offset: true }).meta({ description: 'exclusive, ISO-8601' }),
    step: z
      .enum(['minute', 'hour', 'day'])
      .default('hour')
      .meta({ description: 'buckets in the city time zone' }),
  })
  .strict()
  .superRefine((q, ctx) => {
    const scopes = [q.device, q.district, q.city].filter((s) => s !== undefined).length;
    if (scopes !== 1)
      ctx.addIssue({
        code: 'custom',
        path: ['device'],
        message: 'give exactly one of device, district or city',
      });
    if (Date.parse(q.from) >= Date.parse(q.to))
      ctx.addIssue({ code: 'custom', path: ['to'], message: 'to must be after from' });
  });

export const seriesSchema = z
  .object({
    scope: z.union([
      z.object({ device: z.string() }),
      z.object({ district: z.string() }),
      z.object({ city: z.literal(true) }),
    ]),
    metric: z.string(),
    kind: z.string().optional().meta({ description: 'the device kind asked for' }),
    unit: z.string(),
    averaging: z.enum(['arithmetic', 'energetic']).meta({
      description:
        'how `mean` averages the readings of a bucket: energetic for sound levels in dB (10·log10 of the mean of 10^(L/10)), arithmetic otherwise',
    }),
    step: z.enum(['minute', 'hour', 'day']),
    timezone: z.string().meta({ description: 'IANA zone of the bucket boundaries' }),
    from: isoInstant,
    to: isoInstant,
    points: z.array(
      z.object({
        t: isoInstant.meta({ description: 'bucket start' }),
        count: z.number().int(),
        mean: z.number().meta({
          description:
            'mean of the bucket; for a sound level the energetic mean, so that an hour or a day has its true LAeq',
        }),
        min: z.number(),
        max: z.number(),
        averaging: z.literal('arithmetic').optional().meta({
          description:
            "only on a sound level's bucket whose readings have no energy series (stored by a release before it was kept): its mean is the arithmetic mean of the levels, at or below the true LAeq",
        }),
      }),
    ),
  })
  .meta({ id: 'Series' });

interface SeriesRouteDeps {
  config: Config;
  registry: DeviceRegistry;
  kinds: KindCatalogue;
  store: SeriesStore;
  maxBuckets: number;
}

/** Roll-up buckets for one device, a district or the city. */
export function seriesRoutes(deps: SeriesRouteDeps): AnyRoute[] {
  const { registry, kinds, store } = deps;

  /** Kinds that may report into the scope (narrowed to `kind` when given): the metric must belong to one. */
  const kindsOf = (scope: SeriesScope): Set<string> => {
    if ('device' in scope) {
      const device = registry.get(scope.device);
      if (!device)
        throw new CityError('DEVICES_NOT_FOUND', `device ${scope.device} is not registered`, {
          field: 'device',
        });
      return new Set([device.kind]);
    }
    if ('city' in scope) return new Set(kinds.list().map((k) => k.id));
    const found = new Set<string>();
    for (let offset = 0; ; offset += 1000) {
      const page = registry.list({ district: scope.district, limit: 1000, offset });
      for (const d of page.items) found.add(d.kind);
      if (offset + 1000 >= page.total) break;
    }
    return found;
  };

  return [
    defineRoute({
      method: 'get',
      path: '/api/series',
      summary: 'Aggregates of a metric over time',
      description: `Exactly one of device, district or city, optionally narrowed to one device kind (needed where kinds report the metric with different meanings). At most ${deps.maxBuckets} buckets per request. The mean of a sound level (dB, dB(A)) is its energetic mean (LAeq of the bucket), of anything else the arithmetic mean.`,
      tag: 'series',
      access: 'viewer',
      query: seriesQuerySchema,
      response: seriesSchema,
      handle: async ({ query }) => {
        const scope: SeriesScope =
          query.device !== undefined
            ? { device: query.device }
            : query.district !== undefined
              ? { district: query.district }
              : { city: true };
        const from = Date.parse(query.from);
        const to = Date.parse(query.to);
        const buckets = Math.ceil((to - from) / STEP_MS[query.step]);
        if (buckets > deps.maxBuckets) {
          throw new CityError(
            'API_VALIDATION',
            `${query.from}..${query.to} at step ${query.step} makes ${buckets} buckets; at most ${deps.maxBuckets}: use a coarser step or a shorter range`,
            { field: 'step' },
          );
        }
        const kind = query.kind;
        if (kind !== undefined && kinds.get(kind) === undefined)
          throw new CityError('API_VALIDATION', `no device kind "${kind}"`, { field: 'kind' });
        const inScope = [...kindsOf(scope)].filter((k) => kind === undefined || k === kind);
        if (kind !== undefined && inScope.length === 0)
          throw new CityError('API_VALIDATION', `no device of kind ${kind} in this scope`, { field: 'kind' });
        const specs = inScope.flatMap((k) => {
          const spec = kinds.metric(k, query.metric);
          return spec === undefined ? [] : [{ kind: k, spec }];
        });
        const first = specs[0];
        if (first === undefined) {
          throw new CityError(
            'API_VALIDATION',
            `no device kind in this scope reports metric "${query.metric}"`,
            {
              field: 'metric',
            },
          );
        }
        // Kinds may share a metric name for different quantities (energy consumed by customers, delivered
        // by feeders, generated): one mean over them means nothing, so the caller picks the kind.
        const meanings = new Set(specs.map((s) => `${s.spec.unit}\u0000${s.spec.description}`));
        if (kind === undefined && meanings.size > 1 && !('device' in scope)) {
          throw new CityError(
            'API_VALIDATION',
            `metric "${query.metric}" means different things for ${specs.map((s) => s.kind).join(', ')}: give kind`,
            { field: 'kind', details: { kinds: specs.map((s) => s.kind) } },
          );
        }
        const unit = first.spec.unit;
        const q = { scope, metric: query.metric, from, to, step: query.step };
        // A kind in a district or the city is merged from its devices; a device of that kind is the device,
        // and the city of the one kind reporting a metric is the city roll-up the store keeps.
        const soleKind =
          'city' in scope &&
          kinds
            .list()
            .filter((k) => kinds.metric(k.id, query.metric) !== undefined)
            .every((k) => k.id === kind);
        const read = (metric: string): Promise<Bucket[]> =>
          kind === undefined || 'device' in scope || soleKind
            ? store.query({ ...q, metric })
            : kindBuckets(store, registry, {
                kind,
                metric,
                from,
                to,
                step: query.step,
                ...('district' in scope ? { district: scope.district } : {}),
              });
        const points = await read(query.metric);
        const energetic = isSoundLevelUnit(unit);
        // Decibels average by their energy: the companion series of a sound level (core/sound-level.ts)
        // holds 10^(L/10), and its bucket mean gives the level exactly at any step and scope.
        const energy = energetic
          ? new Map((await read(energyMetric(query.metric))).map((b) => [b.t, b]))
          : new Map<number, Bucket>();
        // Readings stored before the energy series was kept have none: their arithmetic mean stands in, and
        // the bucket says so.
        const exactEnergy = (b: Bucket): Bucket | undefined => {
          const e = energy.get(b.t);
          return e !== undefined && e.count === b.count ? e : undefined;
        };
        return {
          scope,
          metric: query.metric,
          ...(kind !== undefined ? { kind } : {}),
          unit,
          averaging: energetic ? ('energetic' as const) : ('arithmetic' as const),
          step: query.step,
          timezone: deps.config.cityTimezone,
          from: toIso(from),
          to: toIso(to),
          points: points.map((b) => {
            const e = energetic ? exactEnergy(b) : undefined;
            const stoodIn = energetic && e === undefined;
            return {
              t: toIso(b.t),
              count: b.count,
              mean: e !== undefined ? levelOfEnergy(e.mean) : b.mean,
              min: b.min,
              max: b.max,
              ...(stoodIn ? { averaging: 'arithmetic' as const } : {}),
            };
          }),
        };
      },
    }),
  ];
}
