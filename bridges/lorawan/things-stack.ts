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

/** The Things Stack v3 MQTT server's uplink topic: `v3/{application id}@{tenant id}/devices/{device id}/up`. */
export const TTS_UP_TOPIC = 'v3/+/devices/+/up';

/**
 * The Things Stack v3 uplink message (ApplicationUp with `uplink_message`), JSON as its MQTT server and
 * Pub/Sub integration send it: snake_case names, `frm_payload` base64, `decoded_payload` present when a
 * payload formatter ran. The DevEUI is read from the message, not the topic: a Pub/Sub topic need not
 * name the device.
 */
const applicationUp = z.object({
  end_device_ids: z.object({ dev_eui: devEuiField }),
  received_at: instantField,
  uplink_message: z.object({
    f_cnt: z.number().int().nonnegative().default(0),
    frm_payload: base64Field.optional(),
    decoded_payload: z.record(z.string(), z.unknown()).nullable().optional(),
    rx_metadata: z.array(gatewaySignal).optional(),
    /** When the Network Server received it; the outer `received_at` is the Application Server's. */
    received_at: instantField.optional(),
  }),
});

export function parseThingsStackUp(message: Buffer): UplinkParse {
  const json = jsonOf(message);
  if (!json.ok) return { ok: false, reason: 'not JSON' };
  const parsed = applicationUp.safeParse(json.value);
  if (!parsed.success) return { ok: false, reason: issueText(parsed.error) };
  const e = parsed.data;
  const up = e.uplink_message;
  return {
    ok: true,
    uplink: {
      devEui: e.end_device_ids.dev_eui,
      receivedAt: up.received_at ?? e.received_at,
      fCnt: up.f_cnt,
      decoded: up.decoded_payload ?? null,
      payload: up.frm_payload ?? Buffer.alloc(0),
      signal: bestSignal(up.rx_metadata),
    },
  };
}
