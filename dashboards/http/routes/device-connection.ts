import { z } from 'zod';
import type { Config } from '../../../core/config.ts';
import { CityError } from '../../../core/errors.ts';
import { topicFor } from '../../../core/topics.ts';
import type { DeviceRegistry } from '../../../devices/registry.ts';
import { type AnyRoute, defineRoute } from '../define-route.ts';
import type { MqttListening } from '../http-deps.ts';
import { deviceIdParams } from '../schemas/common.ts';

export const deviceConnectionSchema = z
  .object({
    deviceId: z.string(),
    username: z.string().meta({ description: 'the device id' }),
    clientId: z
      .string()
      .meta({ description: 'the device id: always its own (a persistent session needs it)' }),
    host: z.string().nullable().meta({
      description:
        'MQTT_HOST when it names one address; null when the broker listens on every address (use the host this API is reached at)',
    }),
    ports: z.object({
      mqtt: z.number().int().nullable().meta({ description: 'MQTT over TCP' }),
      mqtts: z.number().int().nullable().meta({ description: 'MQTT over TLS; null when not configured' }),
      ws: z.number().int().nullable().meta({ description: 'MQTT over WebSocket, path /mqtt' }),
    }),
    topics: z.object({
      telemetry: z.string(),
      events: z.string(),
      status: z.string(),
      errors: z.string().meta({ description: 'subscribe: why a message was refused' }),
      commands: z.string(),
    }),
  })
  .meta({ id: 'DeviceConnection' });

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '']);

/** Where and how a device connects: what a connection snippet or a device's configuration needs. */
export function deviceConnectionRoutes(deps: {
  registry: DeviceRegistry;
  config: Config;
  mqttListening?: MqttListening;
}): AnyRoute[] {
  const { registry, config } = deps;
  const ports = () => {
    // The ports listened on (an ephemeral 0 resolved); without a broker in this process, the configured ones.
    const listening = deps.mqttListening?.() ?? null;
    if (listening !== null)
      return { mqtt: listening.tcpPort, mqtts: listening.tlsPort, ws: listening.wsPort };
    const configured = (port: number) => (port === 0 ? null : port);
    const tls = config.mqttTlsCertFile !== undefined && config.mqttTlsKeyFile !== undefined;
    return {
      mqtt: configured(config.mqttPort),
      mqtts: tls ? configured(config.mqttTlsPort) : null,
      ws: configured(config.mqttWsPort),
    };
  };
  return [
    defineRoute({
      method: 'get',
      path: '/api/devices/:id/connection',
      summary: "How a device connects: broker host, ports, its credentials' names and its topics",
      description: 'The password is not part of it: it is shown once, at provisioning or rotation.',
      tag: 'devices',
      access: 'admin',
      params: deviceIdParams,
      response: deviceConnectionSchema,
      handle: ({ params }) => {
        const device = registry.get(params.id);
        if (!device)
          throw new CityError('DEVICES_NOT_FOUND', `device ${params.id} is not registered`, { field: 'id' });
        return {
          deviceId: device.id,
          username: device.id,
          clientId: device.id,
          host: WILDCARD_HOSTS.has(config.mqttHost) ? null : config.mqttHost,
          ports: ports(),
          topics: {
            telemetry: topicFor(device.id, 'telemetry'),
            events: topicFor(device.id, 'events'),
            status: topicFor(device.id, 'status'),
            errors: topicFor(device.id, 'errors'),
            commands: topicFor(device.id, 'commands'),
          },
        };
      },
    }),
  ];
}
