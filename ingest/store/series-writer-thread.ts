import { writeFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { CityCalendar } from '../../core/city-calendar.ts';
import { isCityError } from '../../core/errors.ts';
import { silentLogger } from '../../core/logger.ts';
import { unpackPoints } from '../../core/packed-points.ts';
import { SqliteSeriesStore } from './sqlite-series-store.ts';
import {
  type WireError,
  WRITER_THREAD_NAME,
  type WriterReply,
  type WriterRequest,
  type WriterThreadInit,
} from './writer-thread-protocol.ts';

/**
 * The series store's writer thread (threaded-series-store.ts): owns the write connection to series.db and
 * runs every write and prune, one at a time, in arrival order. The main thread keeps its own connection for
 * reads (WAL: readers never wait for this writer).
 */
const port = parentPort;
if (port === null) throw new Error('series-writer-thread runs as a worker thread');

// Named so that per-thread views (top -H, ps -L, /proc/<pid>/task/*/comm, the bench's CPU breakdown) tell
// it from Node's and V8's other threads, all called "node". Not Linux: nothing to name, nothing lost.
try {
  writeFileSync('/proc/thread-self/comm', WRITER_THREAD_NAME);
} catch {
  // no /proc/thread-self
}

const toWire = (err: unknown): WireError =>
  isCityError(err)
    ? {
        code: err.code,
        message: err.message,
        ...(err.field !== undefined ? { field: err.field } : {}),
        ...(err.details !== undefined ? { details: err.details } : {}),
      }
    : { code: null, message: err instanceof Error ? err.message : String(err) };

const reply = (r: WriterReply): void => port.postMessage(r);

const init = workerData as WriterThreadInit;
let store: SqliteSeriesStore;
try {
  store = SqliteSeriesStore.open({
    file: init.file,
    calendar: new CityCalendar(init.timeZone),
    retention: init.retention,
    // The main thread logs what the replies report (expired points, prunes).
    logger: silentLogger(),
  });
  reply({ id: 0, op: 'ready' });
} catch (err) {
  reply({ id: 0, op: 'fatal', error: toWire(err) });
  port.close();
  throw err;
}

port.on('message', (req: WriterRequest) => {
  switch (req.op) {
    case 'write': {
      try {
        const r = store.writeBatch(unpackPoints(req.points), req.now);
        reply({ id: req.id, op: 'written', ...r, rawHorizon: store.retentionHorizons.raw });
      } catch (err) {
        reply({ id: req.id, op: 'failed', error: toWire(err) });
      }
      return;
    }
    case 'prune': {
      store.prune(req.now).then(
        (removed) => reply({ id: req.id, op: 'pruned', removed, horizons: { ...store.retentionHorizons } }),
        (err: unknown) => reply({ id: req.id, op: 'failed', error: toWire(err) }),
      );
      return;
    }
    case 'close': {
      void store.close().then(() => {
        reply({ id: req.id, op: 'closed' });
        port.close();
      });
      return;
    }
  }
});
