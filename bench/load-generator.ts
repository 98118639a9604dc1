import { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { LatencyHistogram } from './histogram.ts';
import { type Handlers, serve } from './ipc.ts';
import { encodeConnect, encodePublish, encodeTopic, PacketReader } from './mqtt-wire.ts';
import { buildPayload, DEFAULT_SEED, valuePool } from './payload.ts';

/**
 * The load generator, a child process of bench/run.ts: ~100 raw MQTT connections over net sockets, one
 * device each, offering a fixed total rate round-robin. The same code, payloads and pacing drive every
 * scenario. Sends from a 1 ms timer (not a busy loop: the machine has two cores and the system under test
 * needs one); what the timer cannot catch up is reported as "behind" (the generator's own limit), what the
 * socket or the QoS 1 in-flight cap refuses as "blocked" (the broker pushing back).
 */

export interface DeviceLogin {
  id: string;
  username?: string;
  password?: string;
}
export interface ConnectArgs {
  host: string;
  port: number;
  devices: DeviceLogin[];
  qos: 0 | 1;
  seed?: number;
}
export interface RunArgs {
  rate: number;
  startAt: number;
  t0: number;
  t1: number;
  /** QoS 1 messages awaiting PUBACK per connection before the generator waits. */
  maxInflight: number;
}
export interface RunResult {
  sent: number;
  blocked: number;
  behind: number;
  sentTotal: number;
  disconnected: number;
}
export interface AckStats {
  acked: number;
  ackedTotal: number;
  inflight: number;
  puback: ReturnType<LatencyHistogram['toWire']>;
}

const SOCKET_HIGH_WATER = 64 * 1024;
const MAX_BURST_MS = 50;

interface Conn {
  socket: Socket;
  topic: Buffer;
  lastTs: number;
  nextId: number;
  inflight: number;
  sentAt: Float64Array;
  inWindow: Uint8Array;
  closed: boolean;
}

let conns: Conn[] = [];
let qos: 0 | 1 = 0;
let pool: string[] = valuePool(DEFAULT_SEED);
let seq = 0;
let acked = 0;
let ackedTotal = 0;
let puback = new LatencyHistogram();
/** messages written since the generator connected (all runs) */
let sentSinceConnect = 0;

function openConnection(host: string, port: number, d: DeviceLogin): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    const conn: Conn = {
      socket,
      topic: encodeTopic(`devices/${d.id}/telemetry`),
      lastTs: 0,
      nextId: 1,
      inflight: 0,
      sentAt: new Float64Array(qos === 1 ? 65_536 : 0),
      inWindow: new Uint8Array(qos === 1 ? 65_536 : 0),
      closed: false,
    };
    let connected = false;
    const reader = new PacketReader((p) => {
      if (p.type === 'connack') {
        if (p.returnCode !== 0) reject(new Error(`CONNACK ${p.returnCode} for ${d.id}`));
        else {
          connected = true;
          resolve(conn);
        }
      } else if (p.type === 'puback') onPuback(conn, p.messageId);
    });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => reader.push(chunk));
    socket.on('error', (err) => {
      if (!connected) reject(err);
    });
    socket.on('close', () => {
      conn.closed = true;
      if (!connected) reject(new Error(`connection of ${d.id} closed before CONNACK`));
    });
    socket.connect(port, host, () => {
      socket.write(
        encodeConnect({
          clientId: d.id,
          ...(d.username !== undefined ? { username: d.username } : {}),
          ...(d.password !== undefined ? { password: d.password } : {}),
        }),
      );
    });
  });
}

function onPuback(conn: Conn, id: number): void {
  const at = conn.sentAt[id]!;
  if (at === 0) return;
  conn.sentAt[id] = 0;
  conn.inflight--;
  ackedTotal++;
  if (conn.inWindow[id] === 1) {
    acked++;
    puback.record(performance.now() - at);
  }
}

function run(args: RunArgs): Promise<RunResult> {
  const { rate, startAt, t0, t1, maxInflight } = args;
  acked = 0;
  puback = new LatencyHistogram();
  let issued = 0;
  let sent = 0;
  let sentTotal = 0;
  let blocked = 0;
  let cursor = 0;
  const maxBurst = Math.max(1, Math.ceil((rate * MAX_BURST_MS) / 1000));
  return new Promise((resolve) => {
    const tick = () => {
      const now = Date.now();
      if (now < startAt) {
        setTimeout(tick, Math.min(startAt - now, 1));
        return;
      }
      const until = Math.min(now, t1);
      const due = Math.floor(((until - startAt) * rate) / 1000);
      const n = Math.min(due - issued, maxBurst);
      const out = new Map<Conn, Buffer[]>();
      for (let k = 0; k < n; k++) {
        const c = conns[cursor]!;
        cursor = (cursor + 1) % conns.length;
        issued++;
        const ts = now > c.lastTs ? now : c.lastTs + 1;
        c.lastTs = ts;
        const inWin = ts >= t0 && ts < t1;
        if (c.closed || c.socket.writableLength > SOCKET_HIGH_WATER) {
          if (inWin) blocked++;
          continue;
        }
        let id = 0;
        if (qos === 1) {
          id = c.nextId;
          if (c.inflight >= maxInflight || c.sentAt[id] !== 0) {
            if (inWin) blocked++;
            continue;
          }
          c.nextId = id === 65_535 ? 1 : id + 1;
          c.inflight++;
          c.sentAt[id] = performance.now();
          c.inWindow[id] = inWin ? 1 : 0;
        }
        const packet = encodePublish(c.topic, buildPayload(pool, ts, seq++), qos, id);
        let list = out.get(c);
        if (list === undefined) {
          list = [];
          out.set(c, list);
        }
        list.push(packet);
        sentTotal++;
        sentSinceConnect++;
        if (inWin) sent++;
      }
      for (const [c, list] of out) c.socket.write(list.length === 1 ? list[0]! : Buffer.concat(list));
      if (until >= t1) {
        // Whatever of the window was neither written nor refused by the socket was never issued: the
        // generator's own loop fell behind.
        const windowDue = Math.floor(((t1 - t0) * rate) / 1000);
        resolve({
          sent,
          blocked,
          behind: Math.max(0, windowDue - sent - blocked),
          sentTotal,
          disconnected: conns.filter((c) => c.closed).length,
        });
        return;
      }
      setTimeout(tick, 1);
    };
    tick();
  });
}

const handlers = {
  async connect(args: ConnectArgs) {
    qos = args.qos;
    pool = valuePool(args.seed ?? DEFAULT_SEED);
    const started = performance.now();
    sentSinceConnect = 0;
    conns = await Promise.all(args.devices.map((d) => openConnection(args.host, args.port, d)));
    return { connected: conns.length, connectMs: performance.now() - started };
  },
  run,
  totals() {
    return { sentTotal: sentSinceConnect };
  },
  ackStats(): AckStats {
    const inflight = conns.reduce((n, c) => n + c.inflight, 0);
    return { acked, ackedTotal, inflight, puback: puback.toWire() };
  },
  disconnect() {
    for (const c of conns) c.socket.destroy();
    conns = [];
    return true;
  },
} satisfies Handlers;

serve(handlers, async () => {
  for (const c of conns) c.socket.destroy();
});
