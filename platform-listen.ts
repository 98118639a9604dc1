import { readFileSync } from 'node:fs';
import { createServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Config } from './core/config.ts';
import { CityError } from './core/errors.ts';
import { listenError } from './core/listen-error.ts';
import type { Gateway } from './gateway/build-gateway.ts';
import { type GatewayListeners, listenGateway } from './gateway/listeners.ts';

/**
 * Listening, shared by the single process (platform.ts) and the cluster roles (cluster/): the MQTT
 * listeners of a gateway and the HTTP server, each failing with the setting to change.
 */

/** Reads a PEM file named in the config; a missing or unreadable file is a configuration error at start. */
function readPem(file: string, key: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new CityError('CONFIG_INVALID', `${key}: cannot read ${file}: ${(err as Error).message}`, {
      field: key,
      cause: err,
    });
  }
}

/** The PEM pair of a listener, or null when neither file is set; one without the other is an error. */
export function tlsPair(
  cert: string | undefined,
  key: string | undefined,
  names: [string, string],
): { cert: Buffer; key: Buffer } | null {
  if (cert === undefined && key === undefined) return null;
  if (cert === undefined || key === undefined)
    throw new CityError('CONFIG_INVALID', `${names[0]} and ${names[1]} must be set together`, {
      field: cert === undefined ? names[0] : names[1],
    });
  return { cert: readPem(cert, names[0]), key: readPem(key, names[1]) };
}

/** Reads both PEM pairs before anything listens: a bad path fails the start, never falls back to plain text. */
export function tlsOf(config: Config) {
  return {
    mqtt: tlsPair(config.mqttTlsCertFile, config.mqttTlsKeyFile, ['MQTT_TLS_CERT_FILE', 'MQTT_TLS_KEY_FILE']),
    http: tlsPair(config.httpTlsCertFile, config.httpTlsKeyFile, ['HTTP_TLS_CERT_FILE', 'HTTP_TLS_KEY_FILE']),
  };
}

/** MQTT over TCP, WebSocket and (when configured) TLS; a port in use names its setting. */
export function listenMqtt(
  gateway: Gateway,
  config: Config,
  mqttTls: { cert: Buffer; key: Buffer } | null,
): Promise<GatewayListeners> {
  return listenGateway(gateway, {
    host: config.mqttHost,
    tcpPort: config.mqttPort,
    wsPort: config.mqttWsPort,
    maxConnections: config.mqttMaxConnections,
    maxPayloadBytes: config.mqttMaxPayloadBytes,
    handshakeTimeoutMs: config.mqttConnectTimeoutMs,
    tls: mqttTls === null ? null : { port: config.mqttTlsPort, ...mqttTls },
  }).catch((err: unknown) => {
    const port = (err as { port?: number }).port;
    const setting =
      port === config.mqttWsPort
        ? 'MQTT_WS_PORT'
        : mqttTls !== null && port === config.mqttTlsPort
          ? 'MQTT_TLS_PORT'
          : 'MQTT_PORT';
    throw listenError(err, setting, 'MQTT_HOST');
  });
}

/** The HTTP(S) server, built but not listening (the live hub attaches to it first). */
export function createHttpServer(
  handler: RequestListener,
  httpTls: { cert: Buffer; key: Buffer } | null,
): Server {
  const server =
    httpTls !== null
      ? createHttpsServer({ ...httpTls, minVersion: 'TLSv1.2' }, handler)
      : createServer(handler);
  // Slow-loris on the API: headers must arrive within 10 s, a whole request within 30 s.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  return server;
}

/** Listens on HTTP_PORT/HTTP_HOST; resolves with the port and the URL to print. */
export async function listenHttp(server: Server, config: Config): Promise<{ port: number; url: string }> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(listenError(err, 'HTTP_PORT', 'HTTP_HOST')));
    server.listen(config.httpPort, config.httpHost, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = config.httpHost === '0.0.0.0' ? 'localhost' : config.httpHost;
  const https = 'setSecureContext' in server;
  return { port, url: `${https ? 'https' : 'http'}://${host}:${port}` };
}

/** Closes an HTTP server, cutting its keep-alive connections. */
export async function closeHttp(server: Server | null): Promise<void> {
  if (server === null || !server.listening) return;
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
}

/** The MQTT URL to print for listeners bound to MQTT_HOST. */
export const mqttUrlOf = (config: Config, port: number): string =>
  `mqtt://${config.mqttHost === '0.0.0.0' ? 'localhost' : config.mqttHost}:${port}`;

export interface Closable {
  close(): unknown;
}

/**
 * Runs an assembly that registers each part it opens; if it throws (a damaged file, a port in use, a server
 * unreachable), what was already opened is closed, newest first, so an embedding process (tests, a
 * supervisor) is not left holding handles, and nothing is half-started.
 */
export async function assembleTracked<T>(
  assemble: (track: <P extends Closable>(part: P) => P) => Promise<T>,
): Promise<T> {
  const opened: Closable[] = [];
  try {
    return await assemble((part) => {
      opened.push(part);
      return part;
    });
  } catch (err) {
    for (const part of opened.reverse()) await Promise.resolve(part.close()).catch(() => {});
    throw err;
  }
}
