import mqtt, { type MqttClient } from 'mqtt';

/**
 * Devices that publish QoS 1 readings and record exactly which ones the broker acknowledged (PUBACK).
 * Each device sends its readings in order with a bounded window in flight; a publish that fails (the
 * connection died before its PUBACK) goes back into the queue and is sent again after the reconnect,
 * which is what a real device with a persistent session does with what was not acknowledged.
 */
export interface FleetDevice {
  id: string;
  password: string;
}

export interface FleetOptions {
  url: string;
  devices: readonly FleetDevice[];
  /** Readings per device. */
  perDevice: number;
  /** Reading timestamps: `firstTs + i * stepMs` (distinct per device). */
  firstTs: number;
  stepMs: number;
  metric: string;
  /** Value of reading i (must be in the kind's range). */
  valueOf(i: number): number;
  /** Unacknowledged messages per device at once. Default 20. */
  window?: number;
  reconnectPeriodMs?: number;
}

interface DeviceState {
  device: FleetDevice;
  client: MqttClient;
  queue: number[];
  next: number;
  inFlight: number;
  acked: Set<number>;
}

export class AckedFleet {
  private readonly states: DeviceState[] = [];
  private readonly waiters: Array<{ until: () => boolean; resolve: () => void }> = [];
  private closed = false;
  /** Publishes whose callback reported an error (resent). */
  failedPublishes = 0;
  published = 0;
  /** Refusals the platform reported on devices/{id}/errors, by code (a refused message is acknowledged too). */
  readonly refused = new Map<string, number>();

  constructor(private readonly opts: FleetOptions) {}

  tsOf(i: number): number {
    return this.opts.firstTs + i * this.opts.stepMs;
  }

  /** Connects every device (persistent sessions, fixed client ids) and starts publishing. */
  start(): void {
    for (const device of this.opts.devices) {
      const client = mqtt.connect(this.opts.url, {
        username: device.id,
        password: device.password,
        clientId: device.id,
        clean: false,
        reconnectPeriod: this.opts.reconnectPeriodMs ?? 100,
        connectTimeout: 5_000,
      });
      client.on('error', () => {}); // refused while the platform is down: reconnect handles it
      const state: DeviceState = { device, client, queue: [], next: 0, inFlight: 0, acked: new Set() };
      this.states.push(state);
      client.on('connect', () => {
        client.subscribe(`devices/${device.id}/errors`, { qos: 1 });
        this.pump(state);
      });
      client.on('message', (_topic, payload) => {
        const code = String((JSON.parse(payload.toString()) as { code?: unknown }).code);
        this.refused.set(code, (this.refused.get(code) ?? 0) + 1);
      });
    }
  }

  get acked(): number {
    let n = 0;
    for (const s of this.states) n += s.acked.size;
    return n;
  }

  get total(): number {
    return this.opts.devices.length * this.opts.perDevice;
  }

  /** Acknowledged reading indexes of a device. */
  ackedOf(deviceId: string): ReadonlySet<number> {
    return this.states.find((s) => s.device.id === deviceId)?.acked ?? new Set();
  }

  /** Resolves when `until()` holds (checked after every acknowledgement). */
  when(until: () => boolean): Promise<void> {
    if (until()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ until, resolve }));
  }

  /** Resolves when every reading of every device has been acknowledged. */
  allAcked(): Promise<void> {
    return this.when(() => this.acked === this.total);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.states.map((s) => s.client.endAsync(true).catch(() => {})));
  }

  private pump(state: DeviceState): void {
    const window = this.opts.window ?? 20;
    while (!this.closed && state.client.connected && state.inFlight < window) {
      const i =
        state.queue.length > 0 ? state.queue.shift()! : state.next < this.opts.perDevice ? state.next++ : -1;
      if (i < 0) return;
      this.send(state, i);
    }
  }

  private send(state: DeviceState, i: number): void {
    const payload = JSON.stringify({
      ts: this.tsOf(i),
      values: { [this.opts.metric]: this.opts.valueOf(i) },
    });
    state.inFlight++;
    this.published++;
    state.client.publish(`devices/${state.device.id}/telemetry`, payload, { qos: 1 }, (err) => {
      state.inFlight--;
      if (err) {
        this.failedPublishes++;
        if (!state.acked.has(i)) state.queue.push(i);
      } else {
        state.acked.add(i);
        this.settle();
      }
      this.pump(state);
    });
  }

  private settle(): void {
    for (let k = this.waiters.length - 1; k >= 0; k--) {
      const w = this.waiters[k]!;
      if (w.until()) {
        this.waiters.splice(k, 1);
        w.resolve();
      }
    }
  }
}
