/** MQTT topic names of the device contract (README, "MQTT contract"). */
export const DEVICE_TOPIC_PREFIX = 'devices/';

export type DeviceChannel = 'telemetry' | 'events' | 'status' | 'errors' | 'commands';
export const DEVICE_PUBLISH_CHANNELS: ReadonlySet<string> = new Set(['telemetry', 'events', 'status']);

export const topicFor = (deviceId: string, channel: DeviceChannel): string =>
  `devices/${deviceId}/${channel}`;

/** Device ids are short, URL- and topic-safe: no `/`, `+`, `#`, spaces or control characters. */
export const DEVICE_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export interface ParsedDeviceTopic {
  deviceId: string;
  channel: string;
}

/**
 * Splits `devices/{id}/{channel}` with cheap string checks only (no regex backtracking, no allocation
 * beyond the two slices): this runs for every message before anything else.
 */
export function parseDeviceTopic(topic: string): ParsedDeviceTopic | null {
  if (!topic.startsWith(DEVICE_TOPIC_PREFIX)) return null;
  const slash = topic.indexOf('/', DEVICE_TOPIC_PREFIX.length);
  if (slash < 0 || topic.indexOf('/', slash + 1) >= 0) return null;
  const deviceId = topic.slice(DEVICE_TOPIC_PREFIX.length, slash);
  const channel = topic.slice(slash + 1);
  if (deviceId.length === 0 || channel.length === 0) return null;
  return { deviceId, channel };
}

export const hasWildcard = (topic: string): boolean => topic.includes('+') || topic.includes('#');
