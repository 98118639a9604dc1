import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../../core/config.ts';
import { silentLogger } from '../../core/logger.ts';
import { buildPlatform } from '../../platform.ts';
import { connectPacket, openRaw } from '../fuzz/raw-mqtt.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/platform-harness.ts';
import { makeTempDir } from '../helpers/temp-dir.ts';

/**
 * MQTT over TLS and HTTPS, switched on by configuration (certificate and key paths), with a self-signed
 * certificate made here by openssl for localhost and 127.0.0.1.
 */
function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const opensslPresent = hasOpenssl();
// CI must not silently skip transport security: there, a missing openssl is a failure.
if (!opensslPresent && process.env.CI === 'true') throw new Error('openssl is required by the TLS tests');

describe.runIf(opensslPresent)('TLS by configuration', () => {
  const dir = makeTempDir('citymetrics-tls-');
  const certFile = dir.file('cert.pem');
  const keyFile = dir.file('key.pem');
  let ca: Buffer;
  let t: TestPlatform;
  beforeAll(async () => {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        keyFile,
        '-out',
        certFile,
        '-days',
        '2',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    ca = readFileSync(certFile);
    t = await startTestPlatform({
      mqttTlsPort: 0,
      mqttTlsCertFile: certFile,
      mqttTlsKeyFile: keyFile,
      httpTlsCertFile: certFile,
      httpTlsKeyFile: keyFile,
      mqttConnectTimeoutMs: 500,
    });
  });
  afterAll(async () => {
    await t?.close();
    dir.remove();
  });

  const https = (path: string, options: { ca?: Buffer; method?: string; body?: unknown } = {}) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const body = options.body === undefined ? undefined : JSON.stringify(options.body);
      const req = request(
        `${t.addresses.httpUrl}${path}`,
        {
          ca: options.ca,
          method: options.method ?? 'GET',
          headers: {
            authorization: `Bearer ${t.adminToken}`,
            ...(body === undefined
              ? {}
              : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }),
          },
        },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => {
            body += c.toString();
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  it('the API is served over HTTPS to a client that trusts the certificate, and refused to one that does not', async () => {
    expect(t.addresses.httpUrl.startsWith('https://')).toBe(true);
    expect((await https('/healthz', { ca })).status).toBe(200);
    await expect(https('/healthz')).rejects.toThrow(/self.signed|certificate/i);
    // Plain HTTP to the HTTPS port gets no answer from the API.
    const plain = await fetch(`${t.addresses.httpUrl.replace('https://', 'http://')}/healthz`).then(
      (r) => r.status,
      () => 'refused',
    );
    expect(plain === 'refused' || plain === 400).toBe(true);
  });

  it('a device publishes over MQTT/TLS and the reading is stored', async () => {
    const created = await https('/api/devices', {
      ca,
      method: 'POST',
      // installed a minute ago: the reading below is stamped five seconds back
      body: {
        kind: 'noise-monitor',
        district: 'Old Town',
        installedAt: new Date(Date.now() - 60_000).toISOString(),
      },
    });
    expect(created.status).toBe(201);
    const dev = JSON.parse(created.body) as { id: string; password: string };
    const port = t.addresses.mqttTlsPort!;
    expect(port).toBeGreaterThan(0);
    const client = await mqtt.connectAsync(`mqtts://127.0.0.1:${port}`, {
      username: dev.id,
      password: dev.password,
      ca,
      rejectUnauthorized: true,
      reconnectPeriod: 0,
    });
    const ts = Date.now() - 5_000;
    await client.publishAsync(`devices/${dev.id}/telemetry`, JSON.stringify({ ts, values: { laeq: 61 } }), {
      qos: 1,
    });
    await client.endAsync();
    await t.platform.ingest.drain();
    const latest = JSON.parse((await https(`/api/devices/${dev.id}/latest`, { ca })).body) as {
      values: Array<{ ts: string; value: number }>;
    };
    expect(latest.values[0]).toMatchObject({ ts: new Date(ts).toISOString(), value: 61 });
  });

  it('an untrusting client, a plain-text client and a silent TLS handshake are all cut', async () => {
    const port = t.addresses.mqttTlsPort!;
    const untrusting = await mqtt
      .connectAsync(`mqtts://127.0.0.1:${port}`, { username: 'x', password: 'y', reconnectPeriod: 0 })
      .then(
        (c) => c.endAsync().then(() => null),
        (e: Error) => e,
      );
    expect(untrusting?.message).toMatch(/self.signed|certificate/i);
    // A plain-text MQTT CONNECT on the TLS port: no CONNACK, the connection is closed.
    const plain = await openRaw(port);
    plain.write(connectPacket('x', 'y'));
    await plain.closed;
    expect(plain.received()[0]).not.toBe(0x20);
    // Connects over TCP and never starts the handshake: closed at the handshake timeout.
    const silent = await openRaw(port);
    await silent.closed;
    expect(silent.received().length).toBe(0);
    // A TLS client that completes the handshake and then says nothing: closed at the CONNECT timeout.
    const quiet = tlsConnect({ host: '127.0.0.1', port, ca, servername: 'localhost' });
    quiet.on('error', () => {});
    await new Promise<void>((resolve) => quiet.once('close', () => resolve()));
    expect(quiet.destroyed).toBe(true);
  });

  it.each([
    ['a certificate without its key', { mqttTlsCertFile: 'cert' }, 'MQTT_TLS_KEY_FILE'],
    ['a key without its certificate', { httpTlsKeyFile: 'key' }, 'HTTP_TLS_CERT_FILE'],
    [
      'a certificate file that does not exist',
      { httpTlsCertFile: 'missing', httpTlsKeyFile: 'key' },
      'HTTP_TLS_CERT_FILE',
    ],
  ])(
    '%s is refused at start, naming the setting (never a fall-back to plain text)',
    async (_name, files, field) => {
      const paths: Record<string, string> = {
        cert: certFile,
        key: keyFile,
        missing: dir.file('missing.pem'),
      };
      const settings = Object.fromEntries(Object.entries(files).map(([k, v]) => [k, paths[v]!]));
      const other = makeTempDir('citymetrics-tls-half-');
      const platform = await buildPlatform({
        config: testConfig({ dataDir: other.path, ...settings }),
        logger: silentLogger(),
      });
      try {
        await expect(platform.start()).rejects.toMatchObject({ code: 'CONFIG_INVALID', field });
      } finally {
        await platform.stop();
        other.remove();
      }
    },
  );
});
