import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { type Clock, systemClock } from '../core/clock.ts';
import { CityError, type ErrorCode } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { AttributeValue } from '../core/ports/device-directory.ts';
import { KindCatalogue } from '../devices/kind-catalogue.ts';
import type { BackoffOptions } from './backoff.ts';
import { type FleetStats, sumStats } from './device-stats.ts';
import { EXPECTED_REFUSAL, FAULT_TYPES, type FaultOptionsInput, faultOptionsSchema } from './faults.ts';
import { ValueGenerator } from './models/index.ts';
import { VirtualDevice } from './virtual-device.ts';

export interface SimulatedDeviceSpec {
  id: string;
  password: string;
  kind: string;
  attributes?: Readonly<Record<string, AttributeValue>>;
}

export interface SimulationOptions {
  /** mqtt://host:port or ws://host:port/mqtt */
  url: string;
  devices: readonly SimulatedDeviceSpec[];
  logger: Logger;
  qos?: 0 | 1;
  /** Total readings per second across the fleet; when set it decides the speed. */
  ratePerSec?: number;
  /** Interval scaling: 60 = every device reports 60× more often than its kind's interval. Default 1. */
  speed?: number;
  /** Shortest interval one device may get, ms (a high rate is spread over devices, not crammed into one). */
  minIntervalMs?: number;
  seed?: number;
  faults?: FaultOptionsInput;
  /** Probability per reading that an electricity meter or feeder loses supply. */
  outageProbability?: number;
  /** IANA zone of the city: value curves follow its local hours. */
  timezone?: string;
  /** Source of reading timestamps (default: the system clock). */
  clock?: Clock;
  kinds?: KindCatalogue;
  /** Devices started per second, so that thousands of clients do not connect at once. */
  connectRatePerSec?: number;
  /** How often `progress` is emitted, ms; 0 = never. */
  progressIntervalMs?: number;
  bufferLimit?: number;
  backfillBatchSize?: number;
  backoff?: Partial<BackoffOptions>;
  tsFormat?: 'epoch' | 'iso';
  protocolVersion?: 4 | 5;
  clean?: boolean;
}

export interface SimulationProgress extends FleetStats {
  elapsedMs: number;
  /** Readings published per second since the previous progress event. */
  currentRatePerSec: number;
}

export interface SimulationReport extends FleetStats {
  durationMs: number;
  /** Readings per second the fleet was set to produce. */
  targetRatePerSec: number;
  /** Refusals the injected faults should have caused, by code: compare with `refused`. */
  expectedRefusals: Partial<Record<ErrorCode, number>>;
}

interface SimulationEvents {
  progress: [SimulationProgress];
}

const CONNECT_BATCH_MS = 50;

/**
 * A fleet of virtual devices on one broker. Devices are started gradually (`connectRatePerSec`), report at
 * their kind's interval divided by the speed, and their counts add up to one report.
 */
export class Simulation extends EventEmitter<SimulationEvents> {
  private readonly devices: VirtualDevice[] = [];
  private readonly options: SimulationOptions;
  private readonly speed: number;
  private readonly targetRate: number;
  private startedAt = 0;
  private connectTimer: NodeJS.Timeout | undefined;
  private progressTimer: NodeJS.Timeout | undefined;
  private lastProgress = { at: 0, published: 0 };
  private state: 'idle' | 'running' | 'stopped' = 'idle';
  /** Settles a pending `start()` when `stop()` comes first. */
  private startSettled: (() => void) | undefined;

  constructor(options: SimulationOptions) {
    super();
    this.options = options;
    const kinds = options.kinds ?? new KindCatalogue();
    const faults = faultOptionsSchema.parse(options.faults ?? {});
    const generator = new ValueGenerator(options.timezone ?? 'UTC');
    let naturalRate = 0;
    const resolved = options.devices.map((spec) => {
      const kind = kinds.get(spec.kind);
      if (kind === undefined || !generator.has(spec.kind)) {
        throw new CityError('DEVICES_UNKNOWN_KIND', `device ${spec.id}: unknown kind ${spec.kind}`, {
          field: 'kind',
        });
      }
      naturalRate += 1 / kind.intervalSec;
      return { spec, kind };
    });
    this.speed =
      options.ratePerSec !== undefined && naturalRate > 0
        ? options.ratePerSec / naturalRate
        : (options.speed ?? 1);
    if (!(this.speed > 0) || !Number.isFinite(this.speed))
      throw new RangeError('speed and ratePerSec must be positive');
    const minInterval = options.minIntervalMs ?? 10;
    let target = 0;
    for (const { spec, kind } of resolved) {
      const intervalMs = Math.max(minInterval, Math.round((kind.intervalSec * 1000) / this.speed));
      target += 1000 / intervalMs;
      this.devices.push(
        new VirtualDevice({
          id: spec.id,
          password: spec.password,
          kind,
          attributes: spec.attributes,
          url: options.url,
          qos: options.qos ?? 1,
          intervalMs,
          seed: options.seed ?? 1,
          clock: options.clock ?? systemClock,
          logger: options.logger,
          generator,
          faults,
          outageProbability: options.outageProbability ?? 0,
          bufferLimit: options.bufferLimit,
          backfillBatchSize: options.backfillBatchSize,
          backoff: options.backoff,
          tsFormat: options.tsFormat,
          protocolVersion: options.protocolVersion,
          clean: options.clean,
        }),
      );
    }
    this.targetRate = target;
  }

  /** Readings per second the fleet is set to produce. */
  get targetRatePerSec(): number {
    return this.targetRate;
  }

  get fleet(): readonly VirtualDevice[] {
    return this.devices;
  }

  /** Starts every device, `connectRatePerSec` at a time; resolves when the last one has been started. */
  start(): Promise<void> {
    if (this.state !== 'idle') return Promise.resolve();
    this.state = 'running';
    this.startedAt = performance.now();
    this.lastProgress = { at: this.startedAt, published: 0 };
    const interval = this.options.progressIntervalMs ?? 1000;
    if (interval > 0)
      this.progressTimer = setInterval(() => this.emit('progress', this.progress()), interval);
    const perBatch = Math.max(
      1,
      Math.round(((this.options.connectRatePerSec ?? 200) * CONNECT_BATCH_MS) / 1000),
    );
    this.options.logger.info(
      { devices: this.devices.length, speed: this.speed, targetRatePerSec: Math.round(this.targetRate) },
      'simulation starting',
    );
    return new Promise<void>((resolve) => {
      this.startSettled = resolve;
      let next = 0;
      const startBatch = (): void => {
        this.connectTimer = undefined;
        if (this.state !== 'running') {
          resolve();
          return;
        }
        const end = Math.min(this.devices.length, next + perBatch);
        for (; next < end; next++) this.devices[next]!.start();
        if (next >= this.devices.length) {
          resolve();
          return;
        }
        this.connectTimer = setTimeout(startBatch, CONNECT_BATCH_MS);
      };
      startBatch();
    });
  }

  /** Fleet totals now. */
  progress(): SimulationProgress {
    const now = performance.now();
    const totals = this.totals();
    const seconds = (now - this.lastProgress.at) / 1000;
    const currentRatePerSec = seconds > 0 ? (totals.published - this.lastProgress.published) / seconds : 0;
    this.lastProgress = { at: now, published: totals.published };
    return { ...totals, elapsedMs: Math.round(now - this.startedAt), currentRatePerSec };
  }

  /** Stops every device (each says `offline` and waits for its acknowledgements) and reports. */
  async stop(): Promise<SimulationReport> {
    // Counted before the devices disconnect: "connected at the end" of the run.
    const connected = this.devices.filter((d) => d.connected).length;
    if (this.state === 'running') {
      this.state = 'stopped';
      clearTimeout(this.connectTimer);
      clearInterval(this.progressTimer);
      this.startSettled?.();
      await Promise.all(this.devices.map((d) => d.stop()));
    }
    this.state = 'stopped';
    const totals = { ...this.totals(), connected };
    return {
      ...totals,
      durationMs: Math.round(performance.now() - this.startedAt),
      targetRatePerSec: this.targetRate,
      expectedRefusals: expectedRefusals(totals),
    };
  }

  private totals(): FleetStats {
    return sumStats(this.devices.map((d) => ({ stats: d.snapshot(), connected: d.connected })));
  }
}

function expectedRefusals(totals: FleetStats): Partial<Record<ErrorCode, number>> {
  const out: Partial<Record<ErrorCode, number>> = {};
  for (const type of FAULT_TYPES) {
    const code = EXPECTED_REFUSAL[type];
    if (code !== undefined && totals.faults[type] > 0) out[code] = (out[code] ?? 0) + totals.faults[type];
  }
  return out;
}

/**
 * Runs a simulation for `durationMs` (0 = until `signal` aborts) and returns its report.
 * `onProgress` receives the periodic progress events.
 */
export async function runSimulation(
  options: SimulationOptions & {
    durationMs?: number;
    signal?: AbortSignal;
    onProgress?: (p: SimulationProgress) => void;
    /** Hears the fleet's target rate (readings/s) before the first device starts. */
    onStart?: (targetRatePerSec: number) => void;
  },
): Promise<SimulationReport> {
  const simulation = new Simulation(options);
  options.onStart?.(simulation.targetRatePerSec);
  if (options.onProgress) simulation.on('progress', options.onProgress);
  await simulation.start();
  await new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', done);
      resolve();
    };
    const ms = options.durationMs ?? 0;
    const timer = ms > 0 ? setTimeout(done, ms) : undefined;
    if (options.signal?.aborted) {
      done();
      return;
    }
    options.signal?.addEventListener('abort', done, { once: true });
    if (ms <= 0 && options.signal === undefined) done();
  });
  return simulation.stop();
}
