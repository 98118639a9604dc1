import { z } from 'zod';
import {
  base64Field,
  bestSignal,
  devEuiField,
  gatewaySignal,
  instantField,
  issueText,
  jsonOf,
  type UplinkParse,
} from './uplink.ts';

/** ChirpStack v4's default MQTT integration topic of uplink events (`event_topic` in chirpstack.toml). */
export const CHIRPSTACK_UP_TOPIC = 'application/+/device/+/event/up';

/**
 * ChirpStack v4 `up` event, JSON encoding (`json=true`, the default): the protobuf `UplinkEvent`
 * (api/proto/integration/integration.proto) in protobuf's JSON mapping, so names are camelCase and
 * `data` is base64. `object` is present only when the device profile has a codec.
 */
const upEvent = z.object({
  time: instantField,
  deviceInfo: z.object({ devEui: devEuiField }),
  fCnt: z.number().int().nonnegative().default(0),
  data: base64Field.optional(),
  object: z.record(z.string(), z.unknown()).nullable().optional(),
  rxInfo: z.array(gatewaySignal).optional(),
});

export function parseChirpstackUp(message: Buffer): UplinkParse {
  const json = jsonOf(message);
  if (!json.ok) return { ok: false, reason: 'not JSON (is the integration set to json=false, Protobuf?)' };
  const parsed = upEvent.safeParse(json.value);
  if (!parsed.success) return { ok: false, reason: issueText(parsed.error) };
  const e = parsed.data;
  return {
    ok: true,
    uplink: {
      devEui: e.deviceInfo.devEui,
      receivedAt: e.time,
      fCnt: e.fCnt,
      decoded: e.object ?? null,
      payload: e.data ?? Buffer.alloc(0),
      signal: bestSignal(e.rxInfo),
    },
  };
}
