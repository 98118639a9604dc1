import { createHash } from 'node:crypto';
import { toCsv, toJson, toXlsx } from '../exports/index.ts';
import type { ExportInput } from '../rollup-exports.ts';
import {
  MANIFEST_FILE,
  PACK_FILES,
  type PackFileInfo,
  type PackManifest,
  packStatus,
  REPORT_PACK_KIND,
  REPORT_PACK_SCHEMA_VERSION,
} from './pack-manifest.ts';
import { snapshotHtml } from './snapshot-html.ts';

/** One file of a pack, with its bytes. */
export interface PackFile extends PackFileInfo {
  body: Buffer;
}

/** A month's pack: its files (the manifest last) and the manifest they are listed in. */
export interface ReportPack {
  month: string;
  version: number;
  manifest: PackManifest;
  files: PackFile[];
}

export const sha256 = (body: Buffer): string => createHash('sha256').update(body).digest('hex');

const file = (name: string, contentType: string, body: Buffer): PackFile => ({
  name,
  contentType,
  bytes: body.length,
  sha256: sha256(body),
  body,
});

/** The consistency report as the API answers it, with the counts a reader looks at first. */
function consistencyJson(input: ExportInput): string {
  const errors = input.findings.filter((f) => f.severity === 'error').length;
  return `${JSON.stringify(
    {
      kind: 'citymetrics.consistency-report',
      period: input.period,
      version: input.version,
      closed: input.closed,
      generatedAt: new Date(input.generatedAt).toISOString(),
      errors,
      warnings: input.findings.length - errors,
      findings: input.findings,
    },
    null,
    2,
  )}\n`;
}

/**
 * Builds the pack of a closed month's roll-up version from what the API's exports are made of
 * (KpiService.exportInput), so a pack and a download of the same version hold the same figures.
 */
export async function buildPack(input: ExportInput): Promise<ReportPack> {
  if (!input.closed || input.closedAt === null) throw new Error(`${input.period} is not closed`);
  const { status, counts } = packStatus(input.entries);
  const bodies: Record<(typeof PACK_FILES)[number]['key'], Buffer> = {
    csv: Buffer.from(toCsv(input.entries), 'utf8'),
    xlsx: await toXlsx(input),
    json: Buffer.from(toJson(input), 'utf8'),
    html: Buffer.from(snapshotHtml(input, { status }), 'utf8'),
    consistency: Buffer.from(consistencyJson(input), 'utf8'),
  };
  const files = PACK_FILES.map((f) => file(f.name, f.contentType, bodies[f.key]));
  const manifest: PackManifest = {
    schemaVersion: REPORT_PACK_SCHEMA_VERSION,
    kind: REPORT_PACK_KIND,
    city: { name: input.cityName },
    month: input.period,
    version: input.version,
    status,
    statusCounts: counts,
    closedAt: input.closedAt,
    generatedAt: new Date(input.generatedAt).toISOString(),
    files: files.map(({ body: _b, ...info }) => info),
  };
  files.push(
    file(
      MANIFEST_FILE.name,
      MANIFEST_FILE.contentType,
      Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`),
    ),
  );
  return { month: input.period, version: input.version, manifest, files };
}
