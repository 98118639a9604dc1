import express, { type Request, type Response } from 'express';
import { z } from 'zod';
import type { Config } from '../../../core/config.ts';
import { CityError } from '../../../core/errors.ts';
import type { IngestChannel } from '../../../core/ports/ingest-sink.ts';
import {
  deviceEventSchema,
  readingBatchSchema,
  readingSchema,
  senmlPackSchema,
} from '../../../core/reading-schema.ts';
import type { Telemetry } from '../../../core/telemetry.ts';
import type { DeviceRegistry } from '../../../devices/registry.ts';
import { type AuthFailureLimiter, clientKey } from '../auth.ts';
import { type AnyRoute, defineRoute, type RouteContext } from '../define-route.ts';
import type { DeviceIngest, IngestStatsSource } from '../http-deps.ts';
import { deviceIdParams } from '../schemas/common.ts';

interface DeviceIngestDeps {
  config: Config;
  registry: Pick<DeviceRegistry, 'verifyCredentials' | 'get'>;
  ingest: IngestStatsSource;
  deviceIngest: DeviceIngest;
  telemetry: Telemetry;
  /** The API's failed-authentication limiter: a guessed device password costs the same as a guessed key. */
  limiter: AuthFailureLimiter;
}

/** The paths whose bodies the routes read themselves; the app's JSON parser must leave them alone. */
export const DEVICE_PAYLOAD_PATH = /^\/api\/devices\/[^/]+\/(?:telemetry|events)\/?$/i;

const CHALLENGE = 'Basic realm="citymetrics devices", charset="UTF-8"';
const BASIC = /^Basic[ \t]+([A-Za-z0-9+/]+={0,2})[ \t]*$/i;
/** Media types a device payload may be sent as; any other refuses a browser's form post (no preflight). */
const PAYLOAD_TYPES = ['application/json', 'application/*+json'];
/**
 * A token comes back every 1/rate s and the rate is at least 1/s, so one second always brings one back,
 * unless the same device holds tokens ahead on MQTT: then it is told to wait again.
 */
const RATE_RETRY_AFTER_S = 1;
/** The store drains its backlog in batches: asking again within a second or two would only be refused again. */
const STORE_RETRY_AFTER_S = 2;

const acceptedSchema = z
  .object({
    deviceId: z.string(),
    channel: z.enum(['telemetry', 'events']),
    accepted: z.number().int().meta({
      description:
        'values now in the durable log (an event counts one); a resent reading is counted again but stored once',
    }),
  })
  .meta({ id: 'DeviceIngestAccepted' });

const telemetryPayloadSchema = z
  .union([readingSchema, readingBatchSchema])
  .meta({ description: 'one reading, or an array of them (back-fill), as on MQTT' });

const refusals = {
  400: 'INGEST_* (the field names where) as on MQTT, or API_VALIDATION (content type, device id)',
  413: 'GATEWAY_PAYLOAD_TOO_LARGE (MQTT_MAX_PAYLOAD_BYTES) or INGEST_TOO_MANY_READINGS',
  429: 'GATEWAY_RATE_LIMITED: over the device rate shared with MQTT; Retry-After says when (also API_RATE_LIMITED)',
  503: 'INGEST_STORE_UNAVAILABLE or INGEST_SHUTTING_DOWN: retryable, Retry-After says when',
};

/**
 * Ingest for devices that speak only HTTP. Everything a reading meets on MQTT it meets here, in the same
 * order and with the same codes and counts: device credentials, own topic only, payload size, the device's
 * rate (one limiter for both paths), admission and the durable log. 201 is sent at the point MQTT sends the
 * PUBACK: once the ingest sink's submit has resolved, that is once the reading is committed to the log.
 */
export function deviceIngestRoutes(deps: DeviceIngestDeps): AnyRoute[] {
  const { config, registry, ingest, deviceIngest, limiter } = deps;
  const { sink, rate } = deviceIngest;
  const readRaw = express.raw({ type: () => true, limit: config.mqttMaxPayloadBytes });

  /**
   * 401 with the challenge. `presented` is counted as a failed login, as a wrong API key is; it is null for
   * the right password of a disabled device, which is not a guess.
   */
  const unauthenticated = (
    res: Response,
    error: CityError,
    req: Request,
    presented: string | undefined | null,
  ): undefined => {
    if (presented !== null) limiter.fail(clientKey(req.ip), presented);
    res.set('WWW-Authenticate', CHALLENGE);
    // A disabled device's credentials no longer authenticate: 401 like a wrong password (the catalogue's
    // 403 is the MQTT-side status), and the code still says why.
    res.status(401).json({ error: error.toJSON() });
    return undefined;
  };

  const readPayload = (req: Request, res: Response): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      readRaw(req, res, (err?: unknown) => {
        if (err === undefined || err === null) {
          if (Buffer.isBuffer(req.body)) return resolve(req.body);
          // Parsed by another body parser on the way: the bytes MQTT would decode are gone.
          if (req.body !== undefined)
            return reject(new CityError('API_INTERNAL', 'the payload was parsed before its route'));
          return resolve(Buffer.alloc(0));
        }
        if ((err as { type?: unknown }).type === 'entity.too.large')
          return reject(
            new CityError(
              'GATEWAY_PAYLOAD_TOO_LARGE',
              `payload exceeds ${config.mqttMaxPayloadBytes} bytes (MQTT_MAX_PAYLOAD_BYTES)`,
            ),
          );
        reject(err);
      });
    });

  async function receive(
    channel: IngestChannel,
    { params, req, res }: RouteContext<{ id: string }, undefined, undefined>,
  ): Promise<z.output<typeof acceptedSchema> | undefined> {
    const presented = basicToken(req);
    const retryAfter = limiter.retryAfterSec(clientKey(req.ip), presented);
    if (retryAfter > 0) {
      res.set('Retry-After', String(retryAfter));
      throw new CityError(
        'API_RATE_LIMITED',
        'too many failed authentications from this address or with these credentials, retry later',
      );
    }
    const credentials = presented === undefined ? null : basicCredentials(presented);
    if (credentials === null) {
      sink.countRefusal(null, 'GATEWAY_BAD_CREDENTIALS');
      const error = new CityError(
        'GATEWAY_BAD_CREDENTIALS',
        'send the device id and password as HTTP Basic credentials',
      );
      return unauthenticated(res, error, req, presented);
    }
    const { user, password } = credentials;
    const check = await registry.verifyCredentials(user, password);
    if (check === 'disabled') {
      sink.countRefusal(user, 'GATEWAY_DEVICE_DISABLED');
      return unauthenticated(res, new CityError('GATEWAY_DEVICE_DISABLED'), req, null);
    }
    if (check !== 'ok') {
      sink.countRefusal(check === 'unknown-device' ? null : user, 'GATEWAY_BAD_CREDENTIALS');
      return unauthenticated(res, new CityError('GATEWAY_BAD_CREDENTIALS'), req, presented);
    }
    if (user !== params.id) {
      sink.countRefusal(user, 'GATEWAY_NOT_AUTHORIZED');
      throw new CityError(
        'GATEWAY_NOT_AUTHORIZED',
        `device ${user} may post only under its own id, not ${params.id}`,
        { field: 'id' },
      );
    }
    if (req.is(PAYLOAD_TYPES) === false) {
      throw new CityError('API_VALIDATION', 'send the payload as Content-Type: application/json', {
        field: 'content-type',
      });
    }
    let payload: Buffer;
    try {
      payload = await readPayload(req, res);
    } catch (err) {
      if (err instanceof CityError) sink.countRefusal(user, err.code);
      throw err;
    }
    if (!rate.take(user)) {
      sink.countRefusal(user, 'GATEWAY_RATE_LIMITED');
      res.set('Retry-After', String(RATE_RETRY_AFTER_S));
      throw new CityError('GATEWAY_RATE_LIMITED', `over ${config.deviceRateLimitPerSec} messages per second`);
    }
    // Where MQTT holds the acknowledgement (the device's in-flight window paces it), an HTTP request
    // would hold a connection and a body per device: it is told to come back instead.
    if (ingest.stats().backlog > config.ingestMaxBacklogValues) {
      res.set('Retry-After', String(STORE_RETRY_AFTER_S));
      throw new CityError('INGEST_STORE_UNAVAILABLE', 'the store is behind, retry later');
    }
    // Disabled while the body was arriving: the check above may have seen the old state.
    if (registry.get(user)?.status !== 'active') {
      sink.countRefusal(user, 'GATEWAY_DEVICE_DISABLED');
      return unauthenticated(res, new CityError('GATEWAY_DEVICE_DISABLED'), req, null);
    }
    deps.telemetry.messagesReceived.inc({ channel });
    const result = await sink.submit(user, channel, payload);
    if (!result.ok) {
      // Counted by ingest already.
      if (result.error.retryable) res.set('Retry-After', String(STORE_RETRY_AFTER_S));
      throw result.error;
    }
    return { deviceId: user, channel, accepted: result.accepted };
  }

  return [
    defineRoute({
      method: 'post',
      path: '/api/devices/:id/telemetry',
      summary: 'Post readings as the device (for devices without MQTT)',
      description:
        'The payload, its decoding, validation, refusal codes, size limit and rate are those of MQTT `devices/{id}/telemetry`. 201 once the readings are in the durable log; resending is safe (stored once).',
      tag: 'device ingest',
      access: 'device',
      params: deviceIdParams,
      requestContent: {
        'application/json': { schema: telemetryPayloadSchema },
        'application/senml+json': { schema: senmlPackSchema },
      },
      status: 201,
      response: acceptedSchema,
      otherResponses: refusals,
      handle: (ctx) => receive('telemetry', ctx),
    }),
    defineRoute({
      method: 'post',
      path: '/api/devices/:id/events',
      summary: 'Post an event as the device (for devices without MQTT)',
      description:
        'As MQTT `devices/{id}/events`: `{"ts", "type", "data"?}` with a type the device kind declares. 201 once the event is in the durable log.',
      tag: 'device ingest',
      access: 'device',
      params: deviceIdParams,
      requestContent: { 'application/json': { schema: deviceEventSchema } },
      status: 201,
      response: acceptedSchema,
      otherResponses: refusals,
      handle: (ctx) => receive('events', ctx),
    }),
  ];
}

/** The encoded `id:password` of `Authorization: Basic`, as presented. */
function basicToken(req: Request): string | undefined {
  const header = req.get('authorization');
  return header === undefined ? undefined : BASIC.exec(header)?.[1];
}

/** RFC 7617: the user id ends at the first colon; the password may hold colons. */
function basicCredentials(encoded: string): { user: string; password: string } | null {
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0 || colon === decoded.length - 1) return null;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
