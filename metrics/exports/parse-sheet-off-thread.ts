import { Worker } from 'node:worker_threads';
import type { ManualSheetResult } from './manual-sheet.ts';

// Run as TypeScript (tsx, vitest) the thread starts through a bootstrap that registers tsx; compiled, this
// file is .js and so is its sibling thread file.
const THREAD_ENTRY = import.meta.url.endsWith('.ts')
  ? new URL('./sheet-parse-thread.mjs', import.meta.url)
  : new URL('./sheet-parse-thread.js', import.meta.url);

export interface SheetParseLimits {
  /** The thread's heap: a workbook that needs more is refused, the process is not touched. */
  maxHeapMb: number;
  /** A parse still running after this is stopped. */
  timeoutMs: number;
}

export const DEFAULT_SHEET_PARSE_LIMITS: SheetParseLimits = { maxHeapMb: 512, timeoutMs: 30_000 };

const failed = (code: 'FILE_TOO_LARGE' | 'FILE_UNREADABLE', message: string): ManualSheetResult => ({
  rows: [],
  errors: [{ row: 0, column: '', code, message }],
});

/** Sheets are parsed one at a time: a second import waits for the first instead of doubling the memory. */
let queue: Promise<unknown> = Promise.resolve();

/**
 * parseManualSheet on a worker thread with its own heap limit and a deadline. Parsing a workbook is
 * synchronous XML work in exceljs: on the main thread a large sheet would hold MQTT acknowledgements and
 * every API request until it is done.
 */
export function parseManualSheetOffThread(
  buffer: Buffer,
  format: 'csv' | 'xlsx',
  limits: SheetParseLimits = DEFAULT_SHEET_PARSE_LIMITS,
): Promise<ManualSheetResult> {
  const run = queue.then(() => parseOnThread(buffer, format, limits));
  queue = run.catch(() => undefined);
  return run;
}

function parseOnThread(
  buffer: Buffer,
  format: 'csv' | 'xlsx',
  limits: SheetParseLimits,
): Promise<ManualSheetResult> {
  return new Promise((resolve) => {
    const worker = new Worker(THREAD_ENTRY, {
      workerData: { bytes: new Uint8Array(buffer), format },
      resourceLimits: { maxOldGenerationSizeMb: limits.maxHeapMb },
    });
    let answered = false;
    const answer = (result: ManualSheetResult) => {
      if (answered) return;
      answered = true;
      clearTimeout(timer);
      resolve(result);
      void worker.terminate();
    };
    const timer = setTimeout(
      () =>
        answer(
          failed(
            'FILE_TOO_LARGE',
            `the sheet took longer than ${limits.timeoutMs / 1000} s to read: split it`,
          ),
        ),
      limits.timeoutMs,
    );
    worker.once('message', (result: ManualSheetResult) => answer(result));
    worker.once('error', (err: Error & { code?: string }) =>
      answer(
        err.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? failed('FILE_TOO_LARGE', `the sheet needs more than ${limits.maxHeapMb} MB to read: split it`)
          : failed('FILE_UNREADABLE', `the sheet could not be read: ${err.message}`),
      ),
    );
    worker.once('exit', () =>
      answer(failed('FILE_UNREADABLE', 'the sheet reader stopped without an answer')),
    );
  });
}
