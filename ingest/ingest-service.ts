import type { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import type { Clock, ClockTimer } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import { CityError, type ErrorCode, isCityError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { PackedPoints } from '../core/packed-points.ts';
import type { PlatformEventMap, PlatformEvents } from '../core/platform-events.ts';
import type { DeviceDirectory, DeviceRecord } from '../core/ports/device-directory.ts';
import type { IngestChannel, IngestResult, IngestSink } from '../core/ports/ingest-sink.ts';
import type { SeriesStore, WriteOutcome } from '../core/ports/series-store.ts';
import { RateRing } from '../core/rate-ring.ts';
import type { Telemetry } from '../core/telemetry.ts';
import { type AdmissionRules, admissionRulesOf, admitMessage } from './admit.ts';
import { DeviceCounters } from './device-counters.ts';
import { type DeviceEventRecord, DurableLog, type EventQuery } from './durable-log.ts';
import { type IngestStats, LatencyWindow } from './ingest-stats.ts';
import type { MigrationProgress } from './log-schema.ts';
import { Materializer, type RetryPolicy } from './materializer.ts';
import type { ValidatedEvent, ValidatedReadings } from './validate.ts';

export type { DeviceEventRecord, EventQuery } from './durable-log.ts';
export type { IngestStats } from './ingest-stats.ts';

export interface IngestServiceDeps {
  config: Config;
  directory: DeviceDirectory;
  store: SeriesStore;
  events: PlatformEvents;
  telemetry: Telemetry;
  logger: Logger;
  clock: Clock;
}

export interface IngestServiceOptions {
  /** Open with store writes held (maintenance, tests): values wait in the log until `resumeStoreWrites()`. */
  startPaused?: boolean;
  /** Back-off of failed series-store writes. Default 100 ms doubling to 10 s, with jitter. */
  retry?: RetryPolicy;
  /** Values per series-store write. Default: what the store prefers (preferredBatchValues), else 5 000. */
  storeBatchMaxValues?: number;
  /** How long `close()` waits for the backlog to reach the store (ms). Default 10 000. */
  closeTimeoutMs?: number;
  /** How often old log rows are pruned (ms); 0 turns the timer off. Default one hour. */
  pruneIntervalMs?: number;
  /** Progress of the durable log's schema migration, when opening an older log migrates it. */
  onMigrationProgress?: MigrationProgress;
}

const ok = (accepted: number): IngestResult => ({ ok: true, accepted });

/**
 * The ingest pipeline behind the gateway: decode → validate → durable log (group commit) → series store
 * (materializer). `submit` resolves once the message is in the durable log, which is when the gateway may
 * send the QoS 1 PUBACK; when the store falls behind past `ingestMaxBacklogValues`, submits wait first, so
 * backpressure reaches the devices instead of memory.
 */
export class IngestService implements IngestSink {
  private readonly deps: IngestServiceDeps;
  private readonly log: DurableLog;
  private readonly materializer: Materializer;
  private readonly logger: Logger;
  private readonly rules: AdmissionRules;
  private readonly maxBacklog: number;
  private readonly closeTimeoutMs: number;
  private readonly pruneTimer: ClockTimer | null;
  private pruning: Promise<number> | null = null;
  private closing: Promise<{ unsaved: number }> | null = null;
  // Counters since start (prom-client holds the same for /metrics; these feed stats() without a registry read).
  private readonly accepted = { messages: 0, readings: 0, values: 0 };
  private readonly stored = { inserted: 0, duplicates: 0, revisions: 0 };
  private readonly refusedByReason = new Map<ErrorCode, number>();
  private refusedTotal = 0;
  private readonly acceptedRate: RateRing;
  private readonly refusedRate: RateRing;
  private readonly storeLatency = new LatencyWindow();
  /** Per registered device: what it sent and what became of it (GET /api/devices/{id}/counters). */
  readonly devices = new DeviceCounters();

  private constructor(deps: IngestServiceDeps, options: IngestServiceOptions) {
    const { config, telemetry, clock } = deps;
    this.deps = deps;
    this.logger = deps.logger.child({ component: 'ingest' });
    this.rules = admissionRulesOf(config);
    this.maxBacklog = config.ingestMaxBacklogValues;
    this.closeTimeoutMs = options.closeTimeoutMs ?? 10_000;
    this.acceptedRate = new RateRing(clock);
    this.refusedRate = new RateRing(clock);
    mkdirSync(config.dataDir, { recursive: true });
    this.log = DurableLog.open({
      dataDir: config.dataDir,
      sync: config.logSync,
      flushMaxValues: config.logFlushMaxValues,
      flushIntervalMs: config.logFlushIntervalMs,
      clock,
      logger: this.logger,
      onCommit: (batch) => this.materializer.accept(batch),
      onCommitSeconds: (s) => telemetry.logCommitSeconds.observe(s),
      onMigrationProgress: options.onMigrationProgress,
    });
    const batchMaxValues = options.storeBatchMaxValues ?? deps.store.preferredBatchValues;
    this.materializer = new Materializer({
      log: this.log,
      store: deps.store,
      logger: this.logger,
      clock,
      maxBacklogValues: this.maxBacklog,
      // The in-memory copy may exceed the backlog bound by what passed the gate at once; past that, re-read.
      maxInMemoryValues: this.maxBacklog + config.logFlushMaxValues,
      ...(batchMaxValues !== undefined ? { batchMaxValues } : {}),
      ...(options.retry !== undefined ? { retry: options.retry } : {}),
      onWritten: (outcome, packed, latencyMs) => {
        this.onStored(outcome, latencyMs);
        this.countStored(packed);
      },
      onFailure: () => telemetry.storeWriteFailures.inc(),
      onBacklog: (backlog) => telemetry.ingestBacklog.set(backlog),
    });
    if (options.startPaused === true) this.materializer.pause();
    const pruneMs = options.pruneIntervalMs ?? 3_600_000;
    this.pruneTimer = pruneMs > 0 ? clock.setInterval(() => void this.pruneLog(), pruneMs) : null;
  }

  /** Opens `<dataDir>/log.db` and starts replaying into the store whatever it holds beyond materialized_seq. */
  static async open(deps: IngestServiceDeps, options: IngestServiceOptions = {}): Promise<IngestService> {
    const service = new IngestService(deps, options);
    service.materializer.start();
    return service;
  }

  submit(deviceId: string, channel: IngestChannel, payload: Buffer): Promise<IngestResult> {
    try {
      if (this.closing !== null)
        return Promise.resolve(this.refuse(deviceId, new CityError('INGEST_SHUTTING_DOWN')));
      const now = this.deps.clock.now();
      const admitted = admitMessage(this.deps.directory, this.rules, deviceId, channel, payload, now);
      if (admitted.ok || admitted.error.code !== 'INGEST_UNKNOWN_DEVICE')
        this.devices.received(
          deviceId,
          now,
          admitted.ok
            ? admitted.channel === 'telemetry'
              ? admitted.readings.seqs
              : undefined
            : admitted.seqs,
        );
      if (!admitted.ok) return Promise.resolve(this.refuse(deviceId, admitted.error));
      if (admitted.channel === 'events') return this.logEvent(admitted.device, admitted.event, now);
      return this.logReadings(admitted.device, admitted.readings, now);
    } catch (err) {
      // submit never rejects (IngestSink contract): an unexpected failure is a retryable refusal.
      this.logger.error({ err, deviceId }, 'ingest failed unexpectedly');
      return Promise.resolve(
        this.refuse(deviceId, new CityError('INGEST_STORE_UNAVAILABLE', undefined, { cause: err })),
      );
    }
  }

  private async logReadings(
    device: Readonly<DeviceRecord>,
    valid: ValidatedReadings,
    now: number,
  ): Promise<IngestResult> {
    if (this.materializer.backlog > this.maxBacklog) {
      await this.materializer.whenBelowLimit();
      if (this.closing !== null) return this.refuse(device.id, new CityError('INGEST_SHUTTING_DOWN'));
    }
    const ctx = { deviceId: device.id, kind: device.kind, district: device.district };
    try {
      await this.log.appendReadings(ctx, valid.values);
    } catch (err) {
      return this.refuse(device.id, asRetryable(err));
    }
    const n = valid.values.length;
    this.devices.accepted(device.id, valid.readings, n);
    this.accepted.messages++;
    this.accepted.readings += valid.readings;
    this.accepted.values += n;
    this.acceptedRate.add(1);
    const { telemetry } = this.deps;
    telemetry.readingsAccepted.inc(valid.readings);
    telemetry.valuesAccepted.inc(n);
    this.deps.directory.markSeen(device.id, now);
    this.emit('readings', { ...ctx, values: valid.values });
    return ok(n);
  }

  private async logEvent(
    device: Readonly<DeviceRecord>,
    event: ValidatedEvent,
    now: number,
  ): Promise<IngestResult> {
    const entry = { deviceId: device.id, kind: device.kind, district: device.district, ...event };
    let fresh: boolean;
    try {
      fresh = await this.log.appendEvent(entry);
    } catch (err) {
      return this.refuse(device.id, asRetryable(err));
    }
    this.accepted.messages++;
    this.devices.accepted(device.id, 0, 0);
    this.acceptedRate.add(1);
    this.deps.directory.markSeen(device.id, now);
    // A repeated event (same device, type and ts: a QoS 1 redelivery) is acknowledged but not announced again.
    if (fresh) {
      const { data, ...rest } = entry;
      this.emit('device-event', data === null ? rest : { ...rest, data });
    }
    return ok(1);
  }

  countRefusal(deviceId: string | null, code: ErrorCode): void {
    this.refusedTotal++;
    this.refusedByReason.set(code, (this.refusedByReason.get(code) ?? 0) + 1);
    this.refusedRate.add(1);
    this.deps.telemetry.messagesRefused.inc({ reason: code });
    // Only registered devices get counters of their own: the table stays as large as the registry.
    if (deviceId !== null && this.deps.directory.get(deviceId) !== undefined)
      this.devices.refused(deviceId, code);
    this.emit('refused', { deviceId, code, at: this.deps.clock.now() });
  }

  private refuse(deviceId: string | null, error: CityError): IngestResult {
    this.countRefusal(deviceId, error.code);
    return { ok: false, error };
  }

  /** Values written per device, from the batch's device index of each point. */
  private countStored(packed: PackedPoints): void {
    // One counter per string of the batch (few: its devices, kinds, districts and metrics), no map per value.
    const perString = new Uint32Array(packed.strings.length);
    for (let i = 0; i < packed.refs.length; i += 4) perString[packed.refs[i]!]!++;
    for (let ref = 0; ref < perString.length; ref++)
      if (perString[ref]! > 0) this.devices.stored(packed.strings[ref]!, perString[ref]!);
  }

  private onStored(outcome: WriteOutcome, latencyMs: number): void {
    const { valuesStored } = this.deps.telemetry;
    const revisions = outcome.revisions.length;
    this.stored.inserted += outcome.inserted;
    this.stored.duplicates += outcome.duplicates;
    this.stored.revisions += revisions;
    if (outcome.inserted > 0) valuesStored.inc({ outcome: 'inserted' }, outcome.inserted);
    if (outcome.duplicates > 0) valuesStored.inc({ outcome: 'duplicate' }, outcome.duplicates);
    if (revisions > 0) {
      valuesStored.inc({ outcome: 'revision' }, revisions);
      this.emit('readings-revised', { revisions: outcome.revisions, at: this.deps.clock.now() });
    }
    this.storeLatency.record(latencyMs);
  }

  // Listeners must not throw (platform-events.ts); if one does, the message is still accepted: it is logged.
  private emit<K extends keyof PlatformEventMap>(name: K, ...args: PlatformEventMap[K]): void {
    try {
      // Generic forwarding defeats EventEmitter's conditional types; the signature above keeps callers typed.
      (this.deps.events as EventEmitter).emit(name, ...args);
    } catch (err) {
      this.logger.error({ err, event: name }, 'platform event listener threw');
    }
  }

  stats(): IngestStats {
    return {
      accepted: { ...this.accepted },
      refused: { total: this.refusedTotal, byReason: Object.fromEntries(this.refusedByReason) },
      stored: { ...this.stored },
      rates: { acceptedPerSec: this.acceptedRate.perSecond(), refusedPerSec: this.refusedRate.perSecond() },
      backlog: this.materializer.backlog,
      storeLatencyMs: this.storeLatency.percentiles(),
      store: this.deps.store.health(),
    };
  }

  /** Device events (outages, calibrations...) from the permanent event table, oldest first. */
  queryEvents(q: EventQuery): DeviceEventRecord[] {
    return this.log.queryEvents(q);
  }

  /** Holds series-store writes; values keep being logged (and acknowledged) up to the backlog bound. */
  pauseStoreWrites(): void {
    this.materializer.pause();
  }

  resumeStoreWrites(): void {
    this.materializer.resume();
  }

  /** Log retention: rows older than retentionLogDays that the store already holds. */
  pruneLog(): Promise<number> {
    this.pruning ??= this.log
      .prune(this.deps.clock.now(), this.deps.config.retentionLogDays)
      .catch((err: unknown) => {
        this.logger.error({ err }, 'durable log retention failed');
        return 0;
      })
      .finally(() => {
        this.pruning = null;
      });
    return this.pruning;
  }

  /** Resolves once everything submitted is committed and in the series store. */
  async drain(): Promise<void> {
    this.log.flush();
    await this.materializer.idle();
  }

  /**
   * Stops accepting (INGEST_SHUTTING_DOWN), commits what is queued, gives the store `closeTimeoutMs` to take
   * the backlog, closes the log. `unsaved` counts values not in the store: they stay in the durable log
   * and are replayed into the store at the next start.
   */
  close(): Promise<{ unsaved: number }> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<{ unsaved: number }> {
    this.pruneTimer?.cancel();
    this.materializer.releaseBackpressure();
    this.log.flush();
    // A real timer, not the clock's: it bounds a wait for the store at shutdown, during which a test's clock
    // does not move, and a hand-moved clock would hold the shutdown for ever.
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.closeTimeoutMs);
    });
    // Held writes will not resume during shutdown: no point waiting for them.
    if (!this.materializer.isPaused) await Promise.race([this.materializer.idle(), timeout]);
    clearTimeout(timer);
    await this.materializer.stop();
    await this.pruning;
    const unsaved = this.materializer.backlog;
    this.log.close();
    if (unsaved > 0)
      this.logger.warn({ unsaved }, 'closing with values not yet in the series store (kept in the log)');
    return { unsaved };
  }
}

function asRetryable(err: unknown): CityError {
  if (isCityError(err)) return err;
  if ((err as { code?: unknown }).code === 'SQLITE_FULL')
    return new CityError(
      'INGEST_STORE_UNAVAILABLE',
      'the disk is full: the reading was not acknowledged; send it again later',
      { cause: err },
    );
  return new CityError('INGEST_STORE_UNAVAILABLE', (err as Error).message, { cause: err });
}
