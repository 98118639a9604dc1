import type { EventEmitter } from 'node:events';
import { headers, type JetStreamClient, type MsgHdrs, type NatsConnection, type PubAck } from 'nats';
import type { Clock } from '../../core/clock.ts';
import { CityError, type ErrorCode } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { PlatformEventMap, PlatformEvents } from '../../core/platform-events.ts';
import type { DeviceDirectory, DeviceRecord } from '../../core/ports/device-directory.ts';
import type { IngestChannel, IngestResult, IngestSink } from '../../core/ports/ingest-sink.ts';
import { RateRing } from '../../core/rate-ring.ts';
import type { Telemetry } from '../../core/telemetry.ts';
import { type AdmissionRules, admitMessage } from '../admit.ts';
import type { ValidatedEvent, ValidatedReadings } from '../validate.ts';
import {
  encodeEvent,
  encodeReadings,
  eventMessageId,
  eventsSubject,
  ORIGIN_HEADER,
  readingsMessageId,
  readingsSubject,
  shardOf,
} from './log-message.ts';
import type { JetStreamLogOptions } from './log-options.ts';
import { logUnavailable } from './nats-errors.ts';

export interface JetStreamSinkDeps {
  /** An open connection; the sink never closes it (its owner does, after `close()`). */
  nc: NatsConnection;
  directory: DeviceDirectory;
  events: PlatformEvents;
  telemetry: Telemetry;
  logger: Logger;
  clock: Clock;
}

export interface JetStreamSinkOptions {
  log: Readonly<JetStreamLogOptions>;
  rules: AdmissionRules;
  /** How long a publish waits for JetStream's acknowledgement before the device is told to resend (ms). */
  publishTimeoutMs?: number;
  /** Publishes awaiting their acknowledgement; past it messages are refused, retryable. Default 20 000. */
  maxPendingPublishes?: number;
  /** This process's id, sent in the Citymetrics-Origin header so that its own live relay skips them. */
  origin?: string;
}

export interface JetStreamSinkStats {
  accepted: { messages: number; readings: number; values: number };
  /** Resends the stream recognised by message id: acknowledged again, not logged twice. */
  duplicates: number;
  refused: { total: number; byReason: Record<string, number> };
  rates: { acceptedPerSec: number; refusedPerSec: number };
  /** Publishes awaiting JetStream's acknowledgement. */
  pending: number;
}

const DEFAULT_PUBLISH_TIMEOUT_MS = 5_000;
const DEFAULT_MAX_PENDING = 20_000;

/**
 * The edge's IngestSink in cluster mode: the same admission as single-process mode (registered device,
 * decode, validate: the same refusal codes), then one JetStream publish per message. `submit` resolves ok
 * only once JetStream acknowledged the publish (stored on file, on a quorum of replicas), which is when
 * the gateway may PUBACK. When JetStream is unreachable or slow, the result is retryable
 * INGEST_LOG_UNAVAILABLE within `publishTimeoutMs`: no PUBACK, and the device resends the same message,
 * which carries the same message id, so a publish that did land is not logged twice.
 */
export class JetStreamIngestSink implements IngestSink {
  private readonly js: JetStreamClient;
  private readonly logger: Logger;
  private readonly publishTimeoutMs: number;
  private readonly maxPending: number;
  private readonly origin: string | undefined;
  private pending = 0;
  private readonly inFlight = new Set<Promise<unknown>>();
  private closing = false;
  private readonly accepted = { messages: 0, readings: 0, values: 0 };
  private duplicates = 0;
  private readonly refusedByReason = new Map<ErrorCode, number>();
  private refusedTotal = 0;
  private readonly acceptedRate: RateRing;
  private readonly refusedRate: RateRing;

  constructor(
    private readonly deps: JetStreamSinkDeps,
    private readonly options: JetStreamSinkOptions,
  ) {
    this.js = deps.nc.jetstream();
    this.logger = deps.logger.child({ component: 'ingest-jetstream' });
    this.publishTimeoutMs = options.publishTimeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS;
    this.maxPending = options.maxPendingPublishes ?? DEFAULT_MAX_PENDING;
    this.origin = options.origin;
    this.acceptedRate = new RateRing(deps.clock);
    this.refusedRate = new RateRing(deps.clock);
  }

  submit(deviceId: string, channel: IngestChannel, payload: Buffer): Promise<IngestResult> {
    try {
      if (this.closing) return Promise.resolve(this.refuse(deviceId, new CityError('INGEST_SHUTTING_DOWN')));
      const now = this.deps.clock.now();
      const { directory } = this.deps;
      const admitted = admitMessage(directory, this.options.rules, deviceId, channel, payload, now);
      if (!admitted.ok) return Promise.resolve(this.refuse(deviceId, admitted.error));
      // Bounded: each waiting publish holds its message; past the bound the device waits and resends.
      if (this.pending >= this.maxPending)
        return Promise.resolve(
          this.refuse(
            deviceId,
            new CityError('INGEST_LOG_UNAVAILABLE', `${this.pending} publishes await JetStream`),
          ),
        );
      const run =
        admitted.channel === 'events'
          ? this.publishEvent(admitted.device, admitted.event, now)
          : this.publishReadings(admitted.device, admitted.readings, now);
      this.inFlight.add(run);
      return run.finally(() => this.inFlight.delete(run));
    } catch (err) {
      // submit never rejects (IngestSink contract): an unexpected failure is a retryable refusal.
      this.logger.error({ err, deviceId }, 'ingest failed unexpectedly');
      return Promise.resolve(this.refuse(deviceId, logUnavailable(err, 'submit')));
    }
  }

  private async publishReadings(
    device: Readonly<DeviceRecord>,
    valid: ValidatedReadings,
    now: number,
  ): Promise<IngestResult> {
    const ctx = { deviceId: device.id, kind: device.kind, district: device.district };
    const subject = readingsSubject(this.options.log, shardOf(device.id, this.options.log.shards));
    const msgID = readingsMessageId(device.id, valid.values);
    const ack = await this.publish(subject, encodeReadings(ctx, valid.values), msgID);
    if (ack instanceof CityError) return this.refuse(device.id, ack);
    const n = valid.values.length;
    this.countAccepted(valid.readings, n, ack.duplicate);
    this.deps.directory.markSeen(device.id, now);
    if (!ack.duplicate) this.emit('readings', { ...ctx, values: valid.values });
    return { ok: true, accepted: n };
  }

  private async publishEvent(
    device: Readonly<DeviceRecord>,
    event: ValidatedEvent,
    now: number,
  ): Promise<IngestResult> {
    const entry = { deviceId: device.id, kind: device.kind, district: device.district, ...event };
    const subject = eventsSubject(this.options.log, shardOf(device.id, this.options.log.shards));
    const ack = await this.publish(
      subject,
      encodeEvent(entry),
      eventMessageId(device.id, event.type, event.ts),
    );
    if (ack instanceof CityError) return this.refuse(device.id, ack);
    this.countAccepted(0, 0, ack.duplicate);
    this.deps.directory.markSeen(device.id, now);
    // A resend (same device, type and ts) is acknowledged but not announced again, as in single-process mode.
    if (!ack.duplicate) {
      const { data, ...rest } = entry;
      this.emit('device-event', data === null ? rest : { ...rest, data });
    }
    return { ok: true, accepted: 1 };
  }

  /** The acknowledgement, or the retryable error to hand the device. Never rejects. */
  private async publish(subject: string, data: Uint8Array, msgID: string): Promise<PubAck | CityError> {
    this.pending++;
    try {
      return await this.js.publish(subject, data, {
        msgID,
        timeout: this.publishTimeoutMs,
        ...(this.origin === undefined ? {} : { headers: this.originHeaders() }),
      });
    } catch (err) {
      this.logger.warn({ err, subject }, 'JetStream publish not acknowledged');
      return logUnavailable(err, `publish to ${subject}`);
    } finally {
      this.pending--;
    }
  }

  private originHeaders(): MsgHdrs {
    const h = headers();
    h.set(ORIGIN_HEADER, this.origin ?? '');
    return h;
  }

  private countAccepted(readings: number, values: number, duplicate: boolean): void {
    this.accepted.messages++;
    this.accepted.readings += readings;
    this.accepted.values += values;
    if (duplicate) this.duplicates++;
    this.acceptedRate.add(1);
    if (readings > 0) this.deps.telemetry.readingsAccepted.inc(readings);
    if (values > 0) this.deps.telemetry.valuesAccepted.inc(values);
  }

  countRefusal(deviceId: string | null, code: ErrorCode): void {
    this.refusedTotal++;
    this.refusedByReason.set(code, (this.refusedByReason.get(code) ?? 0) + 1);
    this.refusedRate.add(1);
    this.deps.telemetry.messagesRefused.inc({ reason: code });
    this.emit('refused', { deviceId, code, at: this.deps.clock.now() });
  }

  private refuse(deviceId: string | null, error: CityError): IngestResult {
    this.countRefusal(deviceId, error.code);
    return { ok: false, error };
  }

  // Listeners must not throw (platform-events.ts); if one does, the message is still accepted: it is logged.
  private emit<K extends keyof PlatformEventMap>(name: K, ...args: PlatformEventMap[K]): void {
    try {
      (this.deps.events as EventEmitter).emit(name, ...args);
    } catch (err) {
      this.logger.error({ err, event: name }, 'platform event listener threw');
    }
  }

  stats(): JetStreamSinkStats {
    return {
      accepted: { ...this.accepted },
      duplicates: this.duplicates,
      refused: { total: this.refusedTotal, byReason: Object.fromEntries(this.refusedByReason) },
      rates: { acceptedPerSec: this.acceptedRate.perSecond(), refusedPerSec: this.refusedRate.perSecond() },
      pending: this.pending,
    };
  }

  /** Refuses new messages (INGEST_SHUTTING_DOWN) and waits for the publishes in flight to be answered. */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.allSettled([...this.inFlight]);
  }
}

/** Builds the sink on an open connection; opens nothing. The stream is checked by ensureReadingsStream. */
export const buildJetStreamIngestSink = (deps: JetStreamSinkDeps, options: JetStreamSinkOptions) =>
  new JetStreamIngestSink(deps, options);
