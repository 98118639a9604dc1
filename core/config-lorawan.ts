import { z } from 'zod';

const brokerUrl = z
  .string()
  .regex(/^(mqtts?|tcp|ssl|wss?):\/\/.+/, 'expected mqtt://host:port or mqtts://host:port')
  .optional();

/**
 * The LoRaWAN network-server bridges (bridges/lorawan), spread into configSchema. A bridge runs when its
 * URL is set. Client ids are fixed so that the broker keeps the bridge's session while it is down.
 */
export const lorawanConfigShape = {
  chirpstackMqttUrl: brokerUrl.describe(
    "ChirpStack v4 MQTT integration's broker (mqtt://host:1883); set: the ChirpStack bridge runs",
  ),
  chirpstackMqttUsername: z.string().optional().describe('ChirpStack broker user'),
  chirpstackMqttPassword: z.string().optional().describe('ChirpStack broker password'),
  chirpstackMqttTopic: z
    .string()
    .min(1)
    .default('application/+/device/+/event/up')
    .describe('uplink topic filter (an application id in place of the first + takes one application)'),
  chirpstackMqttClientId: z
    .string()
    .min(1)
    .max(23)
    .default('citymetrics-chirpstack')
    .describe('fixed client id of the persistent session; one per platform instance (each edge its own)'),
  ttsMqttUrl: brokerUrl.describe(
    'The Things Stack v3 MQTT server (mqtts://eu1.cloud.thethings.network:8883) or your Pub/Sub broker',
  ),
  ttsMqttUsername: z.string().optional().describe('TTS: application id with @tenant (`app@ttn`)'),
  ttsMqttPassword: z.string().optional().describe('TTS: an API key with the application traffic right'),
  ttsMqttTopic: z
    .string()
    .min(1)
    .default('v3/+/devices/+/up')
    .describe('uplink topic filter (`v3/app@tenant/devices/+/up` takes one application)'),
  ttsMqttClientId: z
    .string()
    .min(1)
    .max(23)
    .default('citymetrics-tts')
    .describe('fixed client id of the persistent session; one per platform instance (each edge its own)'),
  lorawanShareGroup: z
    .string()
    .regex(/^[^/+#\s]+$/, 'a name without /, +, # or spaces')
    .default('citymetrics')
    .describe(
      'cluster mode, edge: the bridges subscribe as `$share/<group>/<topic>`, so each uplink goes to one edge of the group; `off`: every edge takes every uplink (a broker without shared subscriptions)',
    ),
};

/** The shared-subscription group the edges' bridges join, or undefined for a plain subscription. */
export const shareGroupOf = (group: string): string | undefined => (group === 'off' ? undefined : group);
