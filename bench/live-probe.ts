import { io, type Socket } from 'socket.io-client';
import { LatencyHistogram } from './histogram.ts';

/**
 * The live page as a browser tab sees it: a socket.io client with a viewer key. Each `latest` push carries
 * the newest value per device and metric; its age on arrival (now − reading ts) is the publish→live-page
 * latency, including the coalescing period (livePushIntervalMs) by design.
 */
export class LiveProbe {
  private readonly socket: Socket;
  private hist = new LatencyHistogram();
  private t0 = Number.POSITIVE_INFINITY;
  private t1 = Number.POSITIVE_INFINITY;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('latest', (msg: { items?: Array<{ ts: number }> }) => {
      const now = Date.now();
      for (const item of msg.items ?? []) {
        if (item.ts >= this.t0 && item.ts < this.t1) this.hist.record(now - item.ts);
      }
    });
  }

  static connect(url: string, token: string): Promise<LiveProbe> {
    const socket = io(url, {
      path: '/socket.io',
      auth: { token },
      transports: ['websocket'],
      reconnection: false,
    });
    return new Promise((resolve, reject) => {
      socket.once('connect', () => resolve(new LiveProbe(socket)));
      socket.once('connect_error', (err) => {
        socket.close();
        reject(err);
      });
    });
  }

  setWindow(t0: number, t1: number): void {
    this.t0 = t0;
    this.t1 = t1;
    this.hist = new LatencyHistogram();
  }

  histogram(): LatencyHistogram {
    return this.hist;
  }

  close(): void {
    this.socket.close();
  }
}
