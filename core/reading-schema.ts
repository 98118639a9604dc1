import { z } from 'zod';

/**
 * Wire formats a device may publish on `devices/{id}/telemetry` (README, "MQTT contract").
 * Decoding and unit handling live in ingest; these schemas are shared with simulators and docs.
 */
export const valueWithUnitSchema = z.object({ value: z.number(), unit: z.string().min(1).max(32) }).strict();
export const readingValueSchema = z.union([z.number(), valueWithUnitSchema]);

export const readingSchema = z
  .object({
    /** ISO-8601 with an offset, or epoch milliseconds. */
    ts: z.union([z.string().min(1).max(40), z.number()]),
    /** Device-side sequence number, optional: lets a device tell gaps from duplicates. */
    seq: z.number().int().nonnegative().optional(),
    values: z.record(z.string().min(1).max(64), readingValueSchema),
  })
  .strict();

export const readingBatchSchema = z.array(readingSchema).min(1);

/** SenML JSON record (RFC 8428 section 4): the fields citymetrics understands. */
export const senmlRecordSchema = z
  .object({
    bn: z.string().max(128).optional(),
    bt: z.number().optional(),
    bu: z.string().max(32).optional(),
    bv: z.number().optional(),
    bver: z.number().int().optional(),
    n: z.string().max(128).optional(),
    u: z.string().max(32).optional(),
    v: z.number().optional(),
    t: z.number().optional(),
  })
  .strict();

export const senmlPackSchema = z.array(senmlRecordSchema).min(1);

/** A discrete device event on `devices/{id}/events`. */
export const deviceEventSchema = z
  .object({
    ts: z.union([z.string().min(1).max(40), z.number()]),
    type: z.string().min(1).max(32),
    /** Free-form detail, kept small: the payload size limit bounds it too. */
    data: z
      .record(z.string().max(64), z.union([z.string().max(256), z.number(), z.boolean(), z.null()]))
      .optional(),
  })
  .strict();

export type ReadingPayload = z.infer<typeof readingSchema>;
export type SenmlRecord = z.infer<typeof senmlRecordSchema>;
export type DeviceEventPayload = z.infer<typeof deviceEventSchema>;

/** One value after decoding, unit conversion and validation: canonical unit, epoch ms. */
export interface NormalizedValue {
  metric: string;
  ts: number;
  value: number;
  /** The unit the device sent, when it was converted (lineage of the conversion). */
  fromUnit?: string;
}
