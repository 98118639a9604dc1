import type { ErrorCode } from '../../core/errors.ts';
import type { PackedPoints } from '../../core/packed-points.ts';
import type { WriteOutcome } from '../../core/ports/series-store.ts';
import type { Horizons } from './batch-writer.ts';

/** The writer thread's name as Linux shows it (`comm`, at most 15 characters). */
export const WRITER_THREAD_NAME = 'series-writer';

/** What the writer thread is started with (workerData): everything to open the store file itself. */
export interface WriterThreadInit {
  file: string;
  timeZone: string;
  retention: { rawDays: number; minuteDays: number; hourDays: number; dayDays: number };
}

export type WriterCommand =
  | { op: 'write'; points: PackedPoints; now: number }
  | { op: 'prune'; now: number }
  | { op: 'close' };

export type WriterRequest = WriterCommand & { id: number };

/** An error as it crosses the thread boundary: a CityError keeps its code, field and details. */
export interface WireError {
  code: ErrorCode | null;
  message: string;
  field?: string;
  details?: unknown;
}

export type WriterReply =
  | { id: 0; op: 'ready' }
  | { id: 0; op: 'fatal'; error: WireError }
  | {
      id: number;
      op: 'written';
      outcome: WriteOutcome;
      expired: number;
      seriesChanged: boolean;
      rawHorizon: number;
    }
  | { id: number; op: 'pruned'; removed: number; horizons: Horizons }
  | { id: number; op: 'closed' }
  | { id: number; op: 'failed'; error: WireError };
