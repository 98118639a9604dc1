import { z } from 'zod';
import { packManifestSchema } from '../../../metrics/report-pack/pack-manifest.ts';
import type { DeliveryRecord } from '../../../metrics/report-pack/report-records.ts';
import type { ReportService } from '../../../metrics/report-pack/report-service.ts';
import { type AnyRoute, defineRoute } from '../define-route.ts';

// The month is checked by the report packs, so a bad one answers REPORT_MONTH_INVALID like the CLI's.
const monthParams = z
  .object({
    month: z.string().max(40).meta({ description: 'a month `YYYY-MM`', example: '2026-03' }),
  })
  .strict();

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

const deliverySchema = z.object({
  id: z.number().int(),
  month: z.string(),
  version: z.number().int(),
  target: z.enum(['folder', 'webhook']),
  destination: z
    .string()
    .meta({ description: "the folder, or the webhook's origin and path (never its query)" }),
  trigger: z.enum(['closed', 'restated', 'manual', 'catch-up']),
  state: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.number().int(),
  lastError: z.string().nullable(),
  lastErrorCode: z.string().nullable(),
  createdAt: z.string(),
  lastAttemptAt: z.string().nullable(),
  deliveredAt: z.string().nullable(),
  fileHashes: z
    .record(z.string(), z.string())
    .meta({ description: 'file name → SHA-256, manifest.json included' }),
});

const toDeliveryJson = (d: DeliveryRecord): z.infer<typeof deliverySchema> => ({
  ...d,
  createdAt: new Date(d.createdAt).toISOString(),
  lastAttemptAt: iso(d.lastAttemptAt),
  deliveredAt: iso(d.deliveredAt),
});

const PACK_DOC =
  'The pack: rollup.csv, rollup.xlsx, rollup.json, snapshot.html (printable, self-contained), consistency.json and manifest.json (SHA-256 of each file, roll-up version, final or provisional).';

/** Monthly report packs: deliveries, and a send on demand (admin). */
export function reportRoutes(deps: { reports: ReportService }): AnyRoute[] {
  const { reports } = deps;
  return [
    defineRoute({
      method: 'get',
      path: '/api/reports',
      summary: 'Report pack deliveries',
      description: `The configured targets and the newest 200 deliveries, newest first. ${PACK_DOC}`,
      tag: 'reports',
      access: 'viewer',
      response: z.object({
        targets: z.array(z.object({ kind: z.string(), destination: z.string() })),
        deliveries: z.array(deliverySchema),
      }),
      handle: async () => ({
        targets: [...reports.targets],
        deliveries: (await reports.list()).map(toDeliveryJson),
      }),
    }),
    defineRoute({
      method: 'get',
      path: '/api/reports/:month',
      summary: "A month's report pack and its deliveries",
      description:
        'The newest pack built for the month (its manifest) and every delivery of every version. 400 REPORT_MONTH_INVALID, 404 REPORT_UNKNOWN_MONTH when the month is not closed and has no pack.',
      tag: 'reports',
      access: 'viewer',
      params: monthParams,
      response: z.object({
        month: z.string(),
        closedVersion: z.number().int().nullable(),
        pack: z
          .object({
            version: z.number().int(),
            status: z.enum(['final', 'provisional']),
            builtAt: z.string(),
            manifest: packManifestSchema,
          })
          .nullable(),
        deliveries: z.array(deliverySchema),
      }),
      handle: async ({ params }) => {
        const r = await reports.month(params.month);
        return {
          month: r.month,
          closedVersion: r.closedVersion,
          pack:
            r.pack === null
              ? null
              : {
                  version: r.pack.version,
                  status: r.pack.status,
                  builtAt: new Date(r.pack.builtAt).toISOString(),
                  manifest: r.pack.manifest,
                },
          deliveries: r.deliveries.map(toDeliveryJson),
        };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/reports/:month',
      summary: "Deliver a closed month's report pack now",
      description: `Delivers the newest roll-up version of the month to every configured target (the pack built at its close, the same bytes, or built now). Answers once the deliveries are recorded; they run on with their retries: follow them with GET /api/reports/{month}. 400 REPORT_MONTH_INVALID, 409 REPORT_MONTH_NOT_CLOSED, 409 REPORT_NO_TARGET. ${PACK_DOC}`,
      tag: 'reports',
      access: 'admin',
      params: monthParams,
      status: 202,
      response: z.object({ manifest: packManifestSchema, deliveries: z.array(deliverySchema) }),
      handle: async ({ params }) => {
        const sent = await reports.send(params.month);
        return { manifest: sent.manifest, deliveries: sent.deliveries.map(toDeliveryJson) };
      },
    }),
  ];
}
