import { z } from 'zod';

export const MANIFEST_NAME = 'manifest.json';
export const MANIFEST_FORMAT = 'citymetrics-backup';
/** The archive layout; a restore refuses a layout it does not know. */
export const MANIFEST_FORMAT_VERSION = 1;

const fileEntrySchema = z.strictObject({
  /** file name in the archive and in DATA_DIR */
  name: z.string().regex(/^[a-z][a-z0-9-]*\.db$/),
  what: z.string(),
  applicationId: z.number().int(),
  schemaVersion: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** when this file's snapshot was taken (ISO-8601): files are copied one after another */
  copiedAt: z.iso.datetime(),
});

export const manifestSchema = z.strictObject({
  format: z.literal(MANIFEST_FORMAT),
  formatVersion: z.number().int().positive(),
  /** the citymetrics release that made the backup */
  citymetricsVersion: z.string(),
  createdAt: z.iso.datetime(),
  /** the data directory it was taken from, for people reading the manifest */
  dataDir: z.string(),
  files: z.array(fileEntrySchema).min(1),
});

export type Manifest = z.infer<typeof manifestSchema>;
export type ManifestFile = z.infer<typeof fileEntrySchema>;
