import type { DeviceEventAccepted, PlatformEvents, ReadingsAccepted } from '../core/platform-events.ts';
import type { DeviceCounters } from '../ingest/device-counters.ts';

/**
 * An api node's per-device `accepted` counts, from the 'readings' and 'device-event' platform events: its
 * own HTTP ingest and, through the live relay, every edge. A log message carries values, not the payload's
 * readings, so the readings of a message are its distinct timestamps (one per reading as devices send
 * them). Returns the stop.
 */
export function countAcceptedPerDevice(events: PlatformEvents, counters: DeviceCounters): () => void {
  const onReadings = function countReadings(r: ReadingsAccepted): void {
    const stamps = new Set<number>();
    for (const v of r.values) stamps.add(v.ts);
    counters.accepted(r.deviceId, stamps.size, r.values.length);
  };
  const onEvent = function countEvent(e: DeviceEventAccepted): void {
    counters.accepted(e.deviceId, 0, 0);
  };
  events.on('readings', onReadings);
  events.on('device-event', onEvent);
  return () => {
    events.off('readings', onReadings);
    events.off('device-event', onEvent);
  };
}
