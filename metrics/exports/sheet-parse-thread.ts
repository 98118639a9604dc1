import { parentPort, workerData } from 'node:worker_threads';
import { parseManualSheet } from './manual-sheet.ts';

/** One sheet per thread: parses what it was given, answers once, and ends. */
const { bytes, format } = workerData as { bytes: Uint8Array; format: 'csv' | 'xlsx' };
const result = await parseManualSheet(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), format);
parentPort?.postMessage(result);
