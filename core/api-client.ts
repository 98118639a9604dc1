import { loadConfig } from './config.ts';
import { defaultFix } from './error-fixes.ts';
import { CityError, type ErrorCode, errorCatalogue } from './errors.ts';

/**
 * The one client of the citymetrics REST API, shared by the command line, the simulators and the tests.
 * Every failure becomes a CityError carrying the API's own code and message (or, when the API cannot be
 * reached, CLI_API_UNREACHABLE) and a fix the person can act on. The shapes below follow the OpenAPI
 * document at /api/openapi.json, which the server generates from the schemas that validate.
 */

export interface ApiClientOptions {
  /** Base URL, e.g. http://localhost:3000 */
  baseUrl: string;
  /** API key sent as a bearer token; requests go without one when unset. */
  token?: string;
  /** For proxies and tests; defaults to the global fetch. */
  fetchImpl?: typeof fetch;
}

export type RequestBody = { json: unknown } | { raw: Uint8Array; type: string };

export interface RequestOptions {
  body?: RequestBody;
  query?: Record<string, string | number | boolean | undefined>;
  /** Overrides the client's token for this request; null sends none. */
  token?: string | null;
}

export interface ApiAnswer<T> {
  status: number;
  body: T;
  headers: Headers;
}

/** `{ error: { code, message, field?, details? } }`, the shape of every error answer. */
interface ErrorBody {
  error?: { code?: unknown; message?: unknown; field?: unknown; details?: unknown };
}

export interface DeviceJson {
  id: string;
  kind: string;
  name: string;
  district: string;
  location: { lat: number; lon: number } | null;
  attributes: Record<string, string | number | boolean>;
  devEui: string | null;
  status: string;
  online: boolean;
  createdAt: string;
  installedAt: string;
  removedAt: string | null;
  disabledAt?: string | null;
  lastSeenAt: string | null;
}

export interface ProvisionBody {
  kind: string;
  district: string;
  name?: string;
  location?: { lat: number; lon: number };
  attributes?: Record<string, string | number | boolean>;
  devEui?: string;
  /** ISO; default the provisioning time */
  installedAt?: string;
}

export interface ApiKeyJson {
  id: string;
  name: string;
  role: string;
  createdAt: string;
  revokedAt: string | null;
}

interface ListenSettings {
  httpPort: number | string;
  httpHost: string;
  https: boolean;
  mqttPort: number | string;
  mqttHost: string;
}

let processSettings: ListenSettings | undefined;

/** Where the server would listen, read by the server's own loader (CONFIG_FILE included), once per process. */
function listenSettings(env: NodeJS.ProcessEnv): ListenSettings {
  if (env === process.env && processSettings !== undefined) return processSettings;
  let settings: ListenSettings;
  try {
    const c = loadConfig(env);
    settings = {
      httpPort: c.httpPort,
      httpHost: c.httpHost,
      https: c.httpTlsCertFile !== undefined,
      mqttPort: c.mqttPort,
      mqttHost: c.mqttHost,
    };
  } catch {
    // A setting the command line does not use may be invalid: the ports alone still say where to look.
    settings = {
      httpPort: env.HTTP_PORT || 3000,
      httpHost: '0.0.0.0',
      https: false,
      mqttPort: env.MQTT_PORT || 1883,
      mqttHost: '0.0.0.0',
    };
  }
  if (env === process.env) processSettings = settings;
  return settings;
}

/** A bind address as a host to connect to: a wildcard means this machine. */
const hostOf = (bind: string): string =>
  ['0.0.0.0', '::', ''].includes(bind) ? 'localhost' : bind.includes(':') ? `[${bind}]` : bind;

/**
 * Where the API is when nothing says otherwise: CITYMETRICS_API, else the address the server itself would
 * listen on (HTTP_PORT, HTTP_HOST, HTTPS when HTTP_TLS_CERT_FILE is set).
 */
export function defaultApiUrl(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CITYMETRICS_API) return env.CITYMETRICS_API;
  const s = listenSettings(env);
  return `${s.https ? 'https' : 'http'}://${hostOf(s.httpHost)}:${s.httpPort}`;
}

/** The broker the same way: MQTT_PORT and MQTT_HOST of the server's settings. */
export function defaultMqttUrl(env: NodeJS.ProcessEnv = process.env): string {
  const s = listenSettings(env);
  return `mqtt://${hostOf(s.mqttHost)}:${s.mqttPort}`;
}

const isErrorCode = (code: unknown): code is ErrorCode =>
  typeof code === 'string' && Object.hasOwn(errorCatalogue, code);

function codeForStatus(status: number): ErrorCode {
  if (status === 401) return 'API_UNAUTHENTICATED';
  if (status === 403) return 'API_FORBIDDEN';
  if (status === 404) return 'API_NOT_FOUND';
  if (status === 409) return 'API_CONFLICT';
  if (status === 413) return 'API_BODY_TOO_LARGE';
  if (status === 429) return 'API_RATE_LIMITED';
  if (status >= 500) return 'API_INTERNAL';
  return 'API_VALIDATION';
}

/** The CityError for an error answer: the API's code and message when it sent them, else the status's. */
export function errorFromAnswer(status: number, body: unknown, baseUrl: string): CityError {
  const error = (body as ErrorBody | null)?.error;
  const code = isErrorCode(error?.code) ? error.code : codeForStatus(status);
  const message =
    typeof error?.message === 'string'
      ? error.message
      : typeof body === 'string' && body !== ''
        ? `HTTP ${status}: ${body.slice(0, 200)}`
        : `HTTP ${status} from ${baseUrl}`;
  const field = typeof error?.field === 'string' ? error.field : undefined;
  return new CityError(code, message, {
    ...(field !== undefined ? { field } : {}),
    details: error?.details,
    fix: defaultFix(code, { api: baseUrl }),
  });
}

function causeOf(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message;
}

export class ApiClient {
  readonly baseUrl: string;
  private readonly token: string | undefined;
  private readonly fetchImpl: typeof fetch;

  constructor(options: ApiClientOptions) {
    this.baseUrl = options.baseUrl;
    this.token = options.token;
    this.fetchImpl = options.fetchImpl ?? fetch;
  }

  /** The raw answer, whatever its status; throws only when the API cannot be reached. */
  async fetch(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    // Appended, not resolved: a base path (a proxy's /citymetrics) is kept and `//x` stays a path.
    const url = new URL(`${this.baseUrl.replace(/\/+$/, '')}${path}`);
    for (const [key, value] of Object.entries(options.query ?? {}))
      if (value !== undefined) url.searchParams.set(key, String(value));
    const token = options.token === undefined ? this.token : options.token;
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    let payload: string | Blob | undefined;
    if (options.body !== undefined && 'json' in options.body) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(options.body.json);
    } else if (options.body !== undefined) {
      headers['content-type'] = options.body.type;
      payload = new Blob([new Uint8Array(options.body.raw)], { type: options.body.type });
    }
    try {
      return await this.fetchImpl(url, { method, headers, body: payload });
    } catch (err) {
      throw new CityError(
        'CLI_API_UNREACHABLE',
        `cannot reach the citymetrics API at ${this.baseUrl} (${causeOf(err)})`,
        { cause: err, fix: defaultFix('CLI_API_UNREACHABLE', { api: this.baseUrl }) },
      );
    }
  }

  /** Status and parsed body, whatever the status: for callers that look at refusals themselves. */
  async send<T = unknown>(method: string, path: string, options: RequestOptions = {}): Promise<ApiAnswer<T>> {
    const res = await this.fetch(method, path, options);
    const text = await res.text();
    let body: unknown = null;
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    return { status: res.status, body: body as T, headers: res.headers };
  }

  /** The parsed body of a 2xx answer; any other answer is thrown as a CityError with its code and a fix. */
  async call<T = unknown>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const answer = await this.send<T>(method, path, options);
    if (answer.status < 200 || answer.status > 299)
      throw errorFromAnswer(answer.status, answer.body, this.baseUrl);
    return answer.body;
  }

  /**
   * A 2xx answer's bytes, read as they arrive; `onProgress` hears the bytes so far and the total when the
   * server sent Content-Length (null otherwise).
   */
  async download(
    path: string,
    options: RequestOptions & { onProgress?: (received: number, total: number | null) => void } = {},
  ): Promise<Buffer> {
    const res = await this.fetch('GET', path, options);
    if (!res.ok) {
      const text = await res.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: the text is the message
      }
      throw errorFromAnswer(res.status, body, this.baseUrl);
    }
    const length = Number(res.headers.get('content-length'));
    const total = Number.isFinite(length) && length > 0 ? length : null;
    const chunks: Buffer[] = [];
    let received = 0;
    options.onProgress?.(0, total);
    if (res.body !== null) {
      for await (const chunk of res.body) {
        chunks.push(Buffer.from(chunk));
        received += chunk.byteLength;
        options.onProgress?.(received, total);
      }
    }
    return Buffer.concat(chunks);
  }

  // Devices

  provisionDevice(body: ProvisionBody): Promise<DeviceJson & { password: string }> {
    return this.call('POST', '/api/devices', { body: { json: body } });
  }

  listDevices(
    filter: { kind?: string; district?: string; q?: string; limit?: number; offset?: number } = {},
  ): Promise<{ items: DeviceJson[]; total: number }> {
    return this.call('GET', '/api/devices', { query: filter });
  }

  /** Every device matching the filter, page after page. */
  async allDevices(filter: { kind?: string; district?: string } = {}): Promise<DeviceJson[]> {
    const out: DeviceJson[] = [];
    for (;;) {
      const page = await this.listDevices({ ...filter, limit: 1000, offset: out.length });
      out.push(...page.items);
      if (page.items.length === 0 || out.length >= page.total) return out;
    }
  }

  device(id: string): Promise<DeviceJson> {
    return this.call('GET', `/api/devices/${encodeURIComponent(id)}`);
  }

  deviceAction(
    id: string,
    action: 'rotate-password' | 'disable' | 'enable',
  ): Promise<DeviceJson | { id: string; password: string }> {
    return this.call('POST', `/api/devices/${encodeURIComponent(id)}/${action}`);
  }

  async deleteDevice(id: string): Promise<void> {
    await this.call('DELETE', `/api/devices/${encodeURIComponent(id)}`);
  }

  // API keys

  async listKeys(): Promise<ApiKeyJson[]> {
    return (await this.call<{ items: ApiKeyJson[] }>('GET', '/api/keys')).items;
  }

  createKey(body: { name: string; role: string }): Promise<ApiKeyJson & { key: string }> {
    return this.call('POST', '/api/keys', { body: { json: body } });
  }

  async revokeKey(id: string): Promise<void> {
    await this.call('DELETE', `/api/keys/${encodeURIComponent(id)}`);
  }
}
