import { EventEmitter } from 'node:events';
import mqtt, { type IConnackPacket, type MqttClient } from 'mqtt';
import type { Clock } from '../core/clock.ts';
import type { DeviceKind } from '../core/device-kind.ts';
import type { Logger } from '../core/logger.ts';
import type { AttributeValue } from '../core/ports/device-directory.ts';
import type { ReadingPayload } from '../core/reading-schema.ts';
import { topicFor } from '../core/topics.ts';
import { Backoff, type BackoffOptions, defaultBackoff } from './backoff.ts';
import { BoundedQueue } from './bounded-queue.ts';
import { type DeviceStats, emptyDeviceStats } from './device-stats.ts';
import { breakJson, FaultInjector, type FaultOptionsInput, faultOptionsSchema } from './faults.ts';
import { IncidentProcess } from './incidents.ts';
import { deviceSeed, INCIDENT_KINDS, OUTAGE_KINDS, ValueGenerator } from './models/index.ts';
import { OutageProcess, type OutageStep } from './outage.ts';
import { mixSeed, mulberry32, uniformAt } from './prng.ts';

export interface VirtualDeviceOptions {
  id: string;
  password: string;
  kind: DeviceKind;
  attributes?: Readonly<Record<string, AttributeValue>>;
  /** mqtt://host:port or ws://host:port/mqtt */
  url: string;
  qos?: 0 | 1;
  /** Real milliseconds between readings; 0 = only when `tick()` is called. */
  intervalMs: number;
  /** Run seed: with the device id it fixes the device's values, faults and jitter. */
  seed: number;
  clock: Clock;
  logger: Logger;
  /** IANA zone of the city: value curves follow local hours. Ignored when `generator` is given. */
  timezone?: string;
  /** Shared value generator (one per fleet saves the zone cache). */
  generator?: ValueGenerator;
  faults?: FaultOptionsInput;
  /** Probability per reading that an electricity meter loses supply (outage_start … restore). */
  outageProbability?: number;
  /** Offline buffer size in readings; the oldest are dropped beyond it. */
  bufferLimit?: number;
  /** Largest back-fill batch (readings per JSON array message). */
  backfillBatchSize?: number;
  backoff?: Partial<BackoffOptions>;
  /** MQTT clean session; default false (persistent session: the broker keeps QoS 1 state). */
  clean?: boolean;
  protocolVersion?: 4 | 5;
  tsFormat?: 'epoch' | 'iso';
  connectTimeoutMs?: number;
  keepaliveSec?: number;
  /** How long `stop()` waits for outstanding acknowledgements before cutting the connection, ms. */
  stopTimeoutMs?: number;
}

export interface RefusalNotice {
  code: string;
  message?: string;
  field?: string;
}

interface DeviceEventMap {
  connect: [];
  offline: [];
  published: [{ readings: number; backfill: boolean; payload: string }];
  acknowledged: [number];
  backfilled: [{ readings: number; messages: number }];
  refused: [RefusalNotice];
  event: [{ type: string; ts: string | number }];
  'auth-refused': [Error];
}

const NO_OUTAGE: OutageStep = { outage: false, started: false, restored: false };
const EVENT_BUFFER_LIMIT = 100;
// MQTT 3.1.1 CONNACK 4/5 and MQTT 5 reason codes 134/135: the credentials will not get better by retrying.
const AUTH_REFUSED_CODES = new Set([4, 5, 134, 135]);

/**
 * One simulated device: a real MQTT client with its own credentials, persistent session and last will.
 * Readings made while offline wait in a bounded buffer and are back-filled as JSON arrays on reconnect.
 */
export class VirtualDevice extends EventEmitter<DeviceEventMap> {
  readonly id: string;
  readonly stats: DeviceStats = emptyDeviceStats();
  private readonly opts: VirtualDeviceOptions;
  private readonly qos: 0 | 1;
  private readonly seedValue: number;
  private readonly generator: ValueGenerator;
  private readonly injector: FaultInjector;
  private readonly outages: OutageProcess | undefined;
  private readonly incidents: IncidentProcess | undefined;
  private readonly backoff: Backoff;
  private readonly buffer: BoundedQueue<ReadingPayload>;
  private readonly eventBuffer = new BoundedQueue<string>(EVENT_BUFFER_LIMIT);
  private readonly log: Logger;
  private client: MqttClient | undefined;
  private seq = 0;
  private held: ReadingPayload | undefined;
  private stopped = false;
  private inDropout = false;
  private wasConnected = false;
  private tickTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private dropoutTimer: NodeJS.Timeout | undefined;

  constructor(options: VirtualDeviceOptions) {
    super();
    this.opts = options;
    this.id = options.id;
    this.qos = options.qos ?? 1;
    this.seedValue = deviceSeed(options.seed, options.id);
    this.generator = options.generator ?? new ValueGenerator(options.timezone ?? 'UTC');
    if (!this.generator.has(options.kind.id))
      throw new RangeError(`no value model for kind ${options.kind.id}`);
    const faults = faultOptionsSchema.parse(options.faults ?? {});
    this.injector = new FaultInjector(faults, mulberry32(mixSeed(this.seedValue, 1)), options.kind);
    this.stats.faults = this.injector.counts;
    this.outages = OUTAGE_KINDS.has(options.kind.id)
      ? new OutageProcess(mulberry32(mixSeed(this.seedValue, 2)), options.outageProbability ?? 0)
      : undefined;
    this.incidents = INCIDENT_KINDS.has(options.kind.id)
      ? new IncidentProcess(mulberry32(mixSeed(this.seedValue, 5)), options.id)
      : undefined;
    this.backoff = new Backoff(
      { ...defaultBackoff, ...options.backoff },
      mulberry32(mixSeed(this.seedValue, 3)),
    );
    this.buffer = new BoundedQueue(options.bufferLimit ?? 1000);
    this.log = options.logger.child({ device: options.id });
  }

  get connected(): boolean {
    return this.client?.connected === true && !this.inDropout;
  }

  /** The device clock's offset from true time, ms (clock-skew fault). */
  get clockSkewMs(): number {
    return this.injector.skewMs;
  }

  /** Connects (retrying with back-off) and starts reporting every `intervalMs`. */
  start(): void {
    if (this.client !== undefined) return;
    const client = mqtt.connect(this.opts.url, {
      clientId: this.id,
      username: this.id,
      password: this.opts.password,
      clean: this.opts.clean ?? false,
      protocolVersion: this.opts.protocolVersion ?? 4,
      // Reconnects are ours (exponential back-off with jitter); mqtt.js would retry at a fixed period.
      reconnectPeriod: 0,
      connectTimeout: this.opts.connectTimeoutMs ?? 10_000,
      keepalive: this.opts.keepaliveSec ?? 60,
      will: { topic: topicFor(this.id, 'status'), payload: Buffer.from('offline'), qos: 1, retain: true },
    });
    this.client = client;
    client.on('connect', (connack) => this.onConnect(connack));
    client.on('close', () => this.onClose());
    client.on('error', (err) => this.onError(err));
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    if (this.opts.intervalMs > 0) {
      // A seeded phase spreads a fleet's readings over the interval instead of all at once.
      const phase = Math.floor(uniformAt(this.seedValue, 4) * this.opts.intervalMs);
      this.tickTimer = setTimeout(() => {
        this.tick();
        this.tickTimer = setInterval(() => this.tick(), this.opts.intervalMs);
      }, phase);
    }
  }

  /** Makes one reading now: sent if connected, buffered otherwise. */
  tick(): void {
    if (this.stopped || this.stats.authRefused) return;
    const tsMs = this.opts.clock.now() + this.injector.skewMs;
    const step = this.outages?.step() ?? NO_OUTAGE;
    if (step.started) this.sendEvent('outage_start', tsMs);
    if (step.restored) this.sendEvent('restore', tsMs);
    const values = this.generator.generate({
      kind: this.opts.kind.id,
      seed: this.seedValue,
      ts: tsMs,
      // What a reading covers is the time since the previous one: a fleet sped up reports more often, each
      // reading a shorter interval's volume or energy, so that a day of readings still adds up to a day.
      intervalSec: this.opts.intervalMs > 0 ? this.opts.intervalMs / 1000 : this.opts.kind.intervalSec,
      attributes: this.opts.attributes,
      outage: step.outage,
    });
    for (const e of this.incidents?.step(values.calls ?? 0) ?? [])
      this.sendEvent(e.type, tsMs, { incident: e.incident });
    const fresh: ReadingPayload = { ts: this.formatTs(tsMs), seq: this.seq++, values };
    const reading = this.injector.shape(fresh, tsMs, (ms) => this.formatTs(ms), this.connected);
    this.stats.generated++;
    if (this.held === undefined && this.injector.holdBack()) {
      this.held = reading; // sent after the next reading: arrives out of order
      return;
    }
    this.deliver(reading);
    if (this.held !== undefined) {
      this.deliver(this.held);
      this.held = undefined;
    }
    if (this.connected && this.injector.dropout()) this.startDropout();
  }

  /** Stops reporting, says `offline`, waits for outstanding acknowledgements (bounded), disconnects. */
  async stop(): Promise<DeviceStats> {
    if (this.stopped) return this.snapshot();
    this.stopped = true;
    clearTimeout(this.tickTimer);
    clearInterval(this.tickTimer);
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.dropoutTimer);
    if (this.held !== undefined) this.toBuffer(this.held);
    this.held = undefined;
    const client = this.client;
    if (client !== undefined) {
      if (this.connected) {
        client.publish(topicFor(this.id, 'status'), 'offline', { qos: 1, retain: true });
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), this.opts.stopTimeoutMs ?? 5_000);
        });
        const outcome = await Promise.race([client.endAsync(false).then(() => 'ended' as const), timeout]);
        clearTimeout(timer);
        if (outcome === 'timeout') await client.endAsync(true);
      } else {
        await client.endAsync(true);
      }
    }
    return this.snapshot();
  }

  snapshot(): DeviceStats {
    this.stats.buffered = this.buffer.size;
    this.stats.dropped = this.buffer.dropped;
    return this.stats;
  }

  private formatTs(ms: number): string | number {
    return this.opts.tsFormat === 'iso' ? new Date(ms).toISOString() : ms;
  }

  private deliver(reading: ReadingPayload): void {
    if (!this.connected) {
      this.toBuffer(reading);
      return;
    }
    const json = JSON.stringify(reading);
    // One refusable fault per message at most, and no duplicate of a refused one: each injected fault
    // then maps to exactly one refusal (EXPECTED_REFUSAL).
    if (this.injector.isRefusable(reading)) {
      this.publishTelemetry(json, 1, false);
      return;
    }
    this.publishTelemetry(this.injector.malformed() ? breakJson(json) : json, 1, false);
    if (this.injector.duplicate()) this.publishTelemetry(json, 1, false);
  }

  private toBuffer(reading: ReadingPayload): void {
    this.buffer.push(reading);
    this.stats.bufferedTotal++;
    this.stats.buffered = this.buffer.size;
    this.stats.dropped = this.buffer.dropped;
  }

  private publishTelemetry(payload: string, readings: number, backfill: boolean): void {
    const client = this.client;
    if (client === undefined) return;
    this.stats.messages++;
    this.stats.published += readings;
    client.publish(topicFor(this.id, 'telemetry'), payload, { qos: this.qos }, (err) => {
      if (err) {
        this.stats.publishErrors += readings;
        return;
      }
      if (this.qos === 1) {
        this.stats.acknowledged += readings;
        this.emit('acknowledged', readings);
      }
    });
    this.emit('published', { readings, backfill, payload });
  }

  private sendEvent(type: string, tsMs: number, data?: Record<string, string>): void {
    const ts = this.formatTs(tsMs);
    const payload = JSON.stringify(data === undefined ? { ts, type } : { ts, type, data });
    this.stats.events[type] = (this.stats.events[type] ?? 0) + 1;
    if (this.connected) this.client?.publish(topicFor(this.id, 'events'), payload, { qos: this.qos });
    else this.eventBuffer.push(payload);
    this.emit('event', { type, ts });
  }

  private onConnect(connack: IConnackPacket): void {
    const client = this.client;
    if (client === undefined) return;
    this.stats.connects++;
    this.wasConnected = true;
    this.backoff.reset();
    this.log.debug({ sessionPresent: connack.sessionPresent }, 'connected');
    client.publish(topicFor(this.id, 'status'), 'online', { qos: 1, retain: true });
    for (const event of this.eventBuffer.take(EVENT_BUFFER_LIMIT)) {
      client.publish(topicFor(this.id, 'events'), event, { qos: this.qos });
    }
    this.backfill();
    // With a persistent session the broker may remember the subscription; subscribing again is harmless.
    // `connect` is told once the subscription is granted, so refusals from then on are heard.
    client.subscribe(topicFor(this.id, 'errors'), { qos: 1 }, (err) => {
      if (err) this.log.warn({ err: err.message }, 'could not subscribe to the errors topic');
      this.emit('connect');
    });
  }

  private backfill(): void {
    const batchSize = this.opts.backfillBatchSize ?? 100;
    let readings = 0;
    let messages = 0;
    while (this.buffer.size > 0) {
      const batch = this.buffer.take(batchSize);
      this.publishTelemetry(JSON.stringify(batch), batch.length, true);
      readings += batch.length;
      messages++;
    }
    this.stats.buffered = 0;
    if (messages === 0) return;
    this.stats.backfilled += readings;
    this.stats.backfillMessages += messages;
    this.log.debug({ readings, messages }, 'back-filled');
    this.emit('backfilled', { readings, messages });
  }

  private onClose(): void {
    if (this.wasConnected) {
      this.wasConnected = false;
      this.emit('offline');
    }
    if (this.stopped || this.stats.authRefused || this.inDropout || this.reconnectTimer !== undefined) return;
    const delay = this.backoff.next();
    this.log.debug({ delayMs: delay, attempt: this.backoff.attempts }, 'reconnecting');
    this.reconnectTimer = setTimeout(() => this.reconnectNow(), delay);
  }

  private reconnectNow(): void {
    this.reconnectTimer = undefined;
    const client = this.client;
    if (client === undefined || this.stopped || client.connected) return;
    // Keep the stores: QoS 1 messages not yet acknowledged are sent again on the new connection.
    client.reconnect({ incomingStore: client.incomingStore, outgoingStore: client.outgoingStore });
  }

  private onError(err: Error & { code?: string | number }): void {
    if (typeof err.code === 'number' && AUTH_REFUSED_CODES.has(err.code)) {
      this.stats.authRefused = true;
      this.log.warn({ code: err.code }, 'broker refused the credentials; giving up');
      this.emit('auth-refused', err);
      this.client?.end(true);
      return;
    }
    this.stats.connectErrors++;
    this.log.debug({ err: err.message, code: err.code }, 'connection error');
  }

  private onMessage(topic: string, payload: Buffer): void {
    if (topic !== topicFor(this.id, 'errors')) return;
    let notice: RefusalNotice = { code: 'UNKNOWN' };
    try {
      const parsed = JSON.parse(payload.toString('utf8')) as Partial<RefusalNotice> | null;
      if (parsed !== null && typeof parsed.code === 'string') notice = { ...parsed, code: parsed.code };
    } catch {
      // The platform should always send JSON; count what it sent anyway.
    }
    this.stats.refused[notice.code] = (this.stats.refused[notice.code] ?? 0) + 1;
    this.log.debug({ code: notice.code, field: notice.field }, 'refused by the platform');
    this.emit('refused', notice);
  }

  /** Dropout fault: the link dies without DISCONNECT (the broker publishes the last will), then silence. */
  private startDropout(): void {
    this.inDropout = true;
    this.log.debug({ ms: this.injector.dropoutMs }, 'dropout');
    this.client?.stream.destroy();
    this.dropoutTimer = setTimeout(() => {
      this.inDropout = false;
      this.reconnectNow();
    }, this.injector.dropoutMs);
  }
}
