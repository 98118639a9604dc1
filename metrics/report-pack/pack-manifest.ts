import { z } from 'zod';
import { KPI_STATUSES, type KpiStatus } from '../kpi-status.ts';
import type { RollupEntry } from '../rollup-types.ts';

/**
 * The manifest of a report pack (`manifest.json`): which month and roll-up version the files are, whether
 * the figures are final, and the SHA-256 of every other file so a receiver can check what it got.
 * `schemaVersion` is bumped on any change that is not a pure addition of optional fields.
 */

export const REPORT_PACK_KIND = 'citymetrics.report-pack';
export const REPORT_PACK_SCHEMA_VERSION = 1;

/** The files of a pack, in the order they are written and listed (the manifest last: it names the others). */
export const PACK_FILES = [
  { key: 'csv', name: 'rollup.csv', contentType: 'text/csv; charset=utf-8' },
  {
    key: 'xlsx',
    name: 'rollup.xlsx',
    contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  },
  { key: 'json', name: 'rollup.json', contentType: 'application/json' },
  { key: 'html', name: 'snapshot.html', contentType: 'text/html; charset=utf-8' },
  { key: 'consistency', name: 'consistency.json', contentType: 'application/json' },
] as const;
export const MANIFEST_FILE = { name: 'manifest.json', contentType: 'application/json' } as const;

export const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);

export const packFileInfoSchema = z
  .object({ name: z.string(), contentType: z.string(), bytes: z.number().int().min(0), sha256: sha256Hex })
  .strict();

export const packManifestSchema = z
  .object({
    schemaVersion: z.literal(REPORT_PACK_SCHEMA_VERSION),
    kind: z.literal(REPORT_PACK_KIND),
    city: z.object({ name: z.string() }).strict(),
    month: z.string().regex(/^\d{4}-\d{2}$/),
    version: z.number().int().positive(),
    status: z.enum(['final', 'provisional']),
    statusCounts: z.object(
      Object.fromEntries(KPI_STATUSES.map((s) => [s, z.number().int().min(0)])) as Record<
        KpiStatus,
        z.ZodNumber
      >,
    ),
    closedAt: z.iso.datetime(),
    generatedAt: z.iso.datetime(),
    files: z.array(packFileInfoSchema),
  })
  .strict();

export type PackManifest = z.infer<typeof packManifestSchema>;
export type PackFileInfo = z.infer<typeof packFileInfoSchema>;

/**
 * A pack is final when none of its entries is provisional and at least one is final, each entry's status
 * being the one rule of metrics/kpi-status.ts as the roll-up stored it. Entries with no data expected are
 * not reported (NR): a gap the pack shows, not a figure that may still change, so they do not make it
 * provisional; but a pack of nothing but such entries is not final either (nothing expected is not complete).
 */
export function packStatus(entries: readonly Pick<RollupEntry, 'status'>[]): {
  status: 'final' | 'provisional';
  counts: Record<KpiStatus, number>;
} {
  const counts = Object.fromEntries(KPI_STATUSES.map((s) => [s, 0])) as Record<KpiStatus, number>;
  for (const e of entries) counts[e.status]++;
  return { status: counts.provisional === 0 && counts.final > 0 ? 'final' : 'provisional', counts };
}
