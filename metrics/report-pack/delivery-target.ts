import type { ReportPack } from './build-pack.ts';
import type { TargetKind } from './report-records.ts';

/** Where a pack goes: a folder or a webhook. Each attempt either delivers the whole pack or throws. */
export interface DeliveryTarget {
  readonly kind: TargetKind;
  /** what the record shows: the folder, or the webhook's origin and path */
  readonly destination: string;
  deliver(pack: ReportPack, deliveryId: number, signal: AbortSignal): Promise<void>;
}

/** A failed attempt, and whether another one may succeed (a 4xx refusal will not get better). */
export class DeliveryAttemptError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    options: { cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'DeliveryAttemptError';
  }
}
