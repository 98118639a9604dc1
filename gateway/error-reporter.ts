import type { Aedes } from 'aedes';
import type { CityError } from '../core/errors.ts';
import { topicFor } from '../core/topics.ts';

/**
 * Tells a device why its message was refused, on `devices/{id}/errors` (QoS 1, not retained), with the
 * stable code and the offending part. The topic of the refused message is included so a device that
 * publishes on several channels can tell which one failed.
 */
export function reportRefusal(
  broker: Aedes,
  deviceId: string,
  topic: string,
  error: CityError,
  at: number,
  /** Called once the report has been handed to every subscribed connection (or to none). */
  written: () => void = () => {},
): void {
  const body = JSON.stringify({
    code: error.code,
    message: error.message,
    field: error.field,
    topic,
    retryable: error.retryable,
    at: new Date(at).toISOString(),
  });
  broker.publish(
    {
      cmd: 'publish',
      topic: topicFor(deviceId, 'errors'),
      payload: Buffer.from(body),
      qos: 1,
      retain: false,
      dup: false,
    },
    () => written(),
  );
}
