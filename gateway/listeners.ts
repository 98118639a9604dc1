import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
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
  /** MQTT over TLS (mqtts): PEM certificate and key; absent = no TLS listener. */
  tls?: { port: number; cert: string | Buffer; key: string | Buffer } | null;
  /** A TLS handshake must complete within this (ms): a slow-loris on the TLS port is cut. Default 10 000. */
  handshakeTimeoutMs?: number;
}

export interface GatewayListeners {
  tcpPort: number;
  wsPort: number | null;
  /** null when no TLS listener was asked for */
  tlsPort: number | null;
  close(): Promise<void>;
}

const listen = (server: Server | HttpServer | TlsServer, port: number, host: string): Promise<number> =>
  new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });

/**
 * MQTT over TCP, over TLS and over WebSocket (path `/mqtt`, subprotocol `mqtt`), all feeding the same
 * broker. Each listener caps its connections (`maxConnections`: the kernel queue is not ours to grow).
 */
export async function listenGateway(gateway: Gateway, options: ListenOptions): Promise<GatewayListeners> {
  const tcp = createServer({ noDelay: true }, (socket) => gateway.handle(socket));
  tcp.maxConnections = options.maxConnections;
  const tcpPort = await listen(tcp, options.tcpPort, options.host);

  let tls: TlsServer | null = null;
  let tlsPort: number | null = null;
  if (options.tls) {
    tls = createTlsServer(
      {
        cert: options.tls.cert,
        key: options.tls.key,
        handshakeTimeout: options.handshakeTimeoutMs ?? 10_000,
        minVersion: 'TLSv1.2',
      },
      (socket) => gateway.handle(socket),
    );
    tls.maxConnections = options.maxConnections;
    // A failed handshake is the peer's problem (scanner, wrong port); it must not reach 'error'.
    tls.on('tlsClientError', (_err, socket) => socket.destroy());
    tlsPort = await listen(tls, options.tls.port, options.host);
  }

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
    tlsPort,
    async close() {
      const closing: Promise<void>[] = [new Promise((r) => tcp.close(() => r()))];
      if (tls !== null) closing.push(new Promise((r) => tls!.close(() => r())));
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
