import { performance } from 'node:perf_hooks';
import mqtt, { type MqttClient } from 'mqtt';

/**
 * Offered load for the overload script and test: QoS 1 readings from many devices, paced at a target
 * rate (0 = as fast as the window allows), each device with at most `window` messages awaiting PUBACK.
 * What the window holds back is "blocked": the platform's backpressure. Every PUBACKed reading is recorded
 * (device, ts) so the caller can prove none was lost.
 */
export interface LoadDevice {
  id: string;
  password: string;
}

export interface LoadClients {
  clients: Array<{ device: LoadDevice; client: MqttClient; inFlight: number; seq: number; acked: number[] }>;
  close(): Promise<void>;
}

export async function connectLoad(url: string, devices: readonly LoadDevice[]): Promise<LoadClients> {
  const clients = await Promise.all(
    devices.map(async (device) => {
      const client = await mqtt.connectAsync(url, {
        username: device.id,
        password: device.password,
        clientId: device.id,
        clean: false,
        reconnectPeriod: 500,
      });
      client.on('error', () => {});
      return { device, client, inFlight: 0, seq: 0, acked: [] as number[] };
    }),
  );
  return {
    clients,
    close: async () => void (await Promise.all(clients.map((c) => c.client.endAsync(true)))),
  };
}

export interface PhaseOptions {
  /** Offered readings per second across all devices; 0 = unpaced. */
  ratePerSec: number;
  durationMs: number;
  /** Messages awaiting PUBACK per device. */
  window: number;
  /** Reading timestamp of sequence number n of a device. */
  tsOf(seq: number): number;
}

export interface PhaseResult {
  /** Readings the pacing asked for. */
  offered: number;
  published: number;
  acked: number;
  /** Offered readings not sent because every window was full (backpressure). */
  blocked: number;
  durationMs: number;
}

const TICK_MS = 5;

/** Runs one phase of offered load; resolves when its time is up (messages in flight may still be acked later). */
export function runPhase(load: LoadClients, opts: PhaseOptions): Promise<PhaseResult> {
  const started = performance.now();
  const result: PhaseResult = { offered: 0, published: 0, acked: 0, blocked: 0, durationMs: 0 };
  let next = 0;
  const send = (c: LoadClients['clients'][number]) => {
    const seq = c.seq++;
    c.inFlight++;
    result.published++;
    const payload = `{"ts":${opts.tsOf(seq)},"values":{"laeq":${40 + (seq % 50)}}}`;
    c.client.publish(`devices/${c.device.id}/telemetry`, payload, { qos: 1 }, (err) => {
      c.inFlight--;
      if (!err) {
        c.acked.push(seq);
        result.acked++;
      }
    });
  };
  return new Promise((resolve) => {
    const tick = () => {
      const elapsed = performance.now() - started;
      const due =
        opts.ratePerSec > 0
          ? Math.floor((Math.min(elapsed, opts.durationMs) / 1000) * opts.ratePerSec)
          : Number.POSITIVE_INFINITY;
      let sentThisTick = 0;
      // Round-robin over devices with room in their window.
      for (let scanned = 0; result.offered < due && scanned < load.clients.length; ) {
        const c = load.clients[next]!;
        next = (next + 1) % load.clients.length;
        if (c.inFlight >= opts.window || !c.client.connected) {
          scanned++;
          continue;
        }
        scanned = 0;
        result.offered++;
        send(c);
        // Unpaced: a bounded burst per tick, so timers and socket writes get their turn.
        if (++sentThisTick >= 5_000) break;
      }
      if (opts.ratePerSec > 0 && result.offered < due) {
        result.blocked += due - result.offered;
        result.offered = due;
      }
      if (elapsed >= opts.durationMs) {
        clearInterval(timer);
        result.durationMs = elapsed;
        resolve(result);
      }
    };
    const timer = setInterval(tick, TICK_MS);
  });
}

/** Resolves once every message in flight has been acknowledged (or the deadline passes). */
export async function settle(load: LoadClients, deadlineMs = 60_000): Promise<boolean> {
  const until = Date.now() + deadlineMs;
  while (load.clients.some((c) => c.inFlight > 0)) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

/** A few counters from a Prometheus text page. */
export async function scrape(
  httpUrl: string,
): Promise<{ rss: number; accepted: number; backlog: number; refused: number }> {
  const text = await (await fetch(`${httpUrl}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  let refused = 0;
  const one = (name: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return line === undefined ? 0 : Number(line.slice(name.length + 1));
  };
  for (const line of text.split('\n'))
    if (line.startsWith('citymetrics_messages_refused_total{'))
      refused += Number(line.slice(line.lastIndexOf(' ') + 1));
  return {
    rss: one('citymetrics_process_process_resident_memory_bytes'),
    accepted: one('citymetrics_readings_accepted_total'),
    backlog: one('citymetrics_ingest_backlog_values'),
    refused,
  };
}
