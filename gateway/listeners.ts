import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { createWebSocketStream, WebSocketServer } from 'ws';
import type { Gateway } from './build-gateway.ts';

export interface ListenOptions {
  host: string;
  /** 0 picks a free port */
  tcpPort: number;
  /** 0 picks a free port; null disables MQTT over WebSocket */
  wsPort: number | null;
  maxConnections: number;
  maxPayloadBytes: number;
}

export interface GatewayListeners {
  tcpPort: number;
  wsPort: number | null;
  close(): Promise<void>;
}

const listen = (server: Server | HttpServer, port: number, host: string): Promise<number> =>
  new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });

/** MQTT over TCP and over WebSocket (path `/mqtt`, subprotocol `mqtt`), both feeding the same broker. */
export async function listenGateway(gateway: Gateway, options: ListenOptions): Promise<GatewayListeners> {
  const tcp = createServer({ noDelay: true }, (socket) => gateway.handle(socket));
  tcp.maxConnections = options.maxConnections;
  const tcpPort = await listen(tcp, options.tcpPort, options.host);

  let http: HttpServer | null = null;
  let wss: WebSocketServer | null = null;
  let wsPort: number | null = null;
  if (options.wsPort !== null) {
    http = createHttpServer((_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain' }).end('MQTT over WebSocket: connect to /mqtt\n');
    });
    http.maxConnections = options.maxConnections;
    // MQTT frames are at most the payload limit plus topic and headers.
    wss = new WebSocketServer({
      server: http,
      path: '/mqtt',
      maxPayload: options.maxPayloadBytes + 64 * 1024,
    });
    wss.on('connection', (ws, req) => {
      const stream = createWebSocketStream(ws);
      stream.on('error', () => ws.terminate());
      gateway.handle(stream, req);
    });
    wsPort = await listen(http, options.wsPort, options.host);
  }

  return {
    tcpPort,
    wsPort,
    async close() {
      const closing: Promise<void>[] = [new Promise((r) => tcp.close(() => r()))];
      if (wss !== null) {
        for (const ws of wss.clients) ws.terminate();
        closing.push(new Promise((r) => wss!.close(() => r())));
      }
      if (http !== null) {
        http.closeAllConnections();
        closing.push(new Promise((r) => http!.close(() => r())));
      }
      await Promise.all(closing);
    },
  };
}
