import { z } from 'zod';
import { uplinkFields as f, uplinkParser } from './uplink.ts';

/** ChirpStack v4's default MQTT integration topic of uplink events (`event_topic` in chirpstack.toml). */
export const CHIRPSTACK_UP_TOPIC = 'application/+/device/+/event/up';

/**
 * ChirpStack v4 `up` event, JSON encoding (`json=true`, the default): the protobuf `UplinkEvent`
 * (api/proto/integration/integration.proto) in protobuf's JSON mapping, so names are camelCase and
 * `data` is base64. `object` is present only when the device profile has a codec.
 */
const upEvent = z.object({
  time: f.instant,
  deviceInfo: z.object({ devEui: f.devEui }),
  fCnt: f.fCnt,
  data: f.payload,
  object: f.decoded,
  rxInfo: f.signal,
});

export const parseChirpstackUp = uplinkParser(
  upEvent,
  'not JSON (is the integration set to json=false, Protobuf?)',
  function fromUpEvent(e) {
    return {
      devEui: e.deviceInfo.devEui,
      receivedAt: e.time,
      fCnt: e.fCnt,
      decoded: e.object,
      payload: e.data,
      signal: e.rxInfo,
    };
  },
);
