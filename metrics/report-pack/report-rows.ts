import { z } from 'zod';
import { type CorruptRow, checkedJson } from '../../core/json-column.ts';
import { type PackManifest, packManifestSchema } from './pack-manifest.ts';
import type { DeliveryRecord, DeliveryState, DeliveryTrigger, TargetKind } from './report-records.ts';

/** A delivery as both backends store it (file hashes as JSON text). */
export interface DeliveryRow {
  id: number;
  month: string;
  version: number;
  target: TargetKind;
  destination: string;
  trigger: DeliveryTrigger;
  state: DeliveryState;
  attempts: number;
  last_error: string | null;
  last_error_code: string | null;
  created_at: number;
  last_attempt_at: number | null;
  delivered_at: number | null;
  file_hashes: string;
}

const fileHashesSchema = z.record(z.string(), z.string());

export const toDelivery = (r: DeliveryRow, corrupt: CorruptRow): DeliveryRecord => ({
  id: r.id,
  month: r.month,
  version: r.version,
  target: r.target,
  destination: r.destination,
  trigger: r.trigger,
  state: r.state,
  attempts: r.attempts,
  lastError: r.last_error,
  lastErrorCode: r.last_error_code,
  createdAt: r.created_at,
  lastAttemptAt: r.last_attempt_at,
  deliveredAt: r.delivered_at,
  fileHashes: checkedJson(fileHashesSchema, r.file_hashes, `delivery ${r.id}, file_hashes`, corrupt),
});

export const fileHashesOf = (files: ReadonlyArray<{ name: string; sha256: string }>): string =>
  JSON.stringify(Object.fromEntries(files.map((f) => [f.name, f.sha256])));

export const parseManifest = (text: string): PackManifest => packManifestSchema.parse(JSON.parse(text));

export interface PackFileRow {
  name: string;
  content_type: string;
  sha256: string;
  body: Buffer;
}

export const toPackFile = (f: PackFileRow) => ({
  name: f.name,
  contentType: f.content_type,
  sha256: f.sha256,
  bytes: f.body.length,
  body: f.body,
});
