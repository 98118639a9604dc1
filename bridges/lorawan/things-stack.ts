import { z } from 'zod';
import { uplinkFields as f, uplinkParser } from './uplink.ts';

/** The Things Stack v3 MQTT server's uplink topic: `v3/{application id}@{tenant id}/devices/{device id}/up`. */
export const TTS_UP_TOPIC = 'v3/+/devices/+/up';

/**
 * The Things Stack v3 uplink message (ApplicationUp with `uplink_message`), JSON as its MQTT server and
 * Pub/Sub integration send it: snake_case names, `frm_payload` base64, `decoded_payload` present when a
 * payload formatter ran. The DevEUI is read from the message, not the topic: a Pub/Sub topic need not
 * name the device.
 */
const applicationUp = z.object({
  end_device_ids: z.object({ dev_eui: f.devEui }),
  received_at: f.instant,
  uplink_message: z.object({
    f_cnt: f.fCnt,
    frm_payload: f.payload,
    decoded_payload: f.decoded,
    rx_metadata: f.signal,
    /** When the Network Server received it; the outer `received_at` is the Application Server's. */
    received_at: f.instant.optional(),
  }),
});

export const parseThingsStackUp = uplinkParser(applicationUp, 'not JSON', function fromApplicationUp(e) {
  const up = e.uplink_message;
  return {
    devEui: e.end_device_ids.dev_eui,
    receivedAt: up.received_at ?? e.received_at,
    fCnt: up.f_cnt,
    decoded: up.decoded_payload,
    payload: up.frm_payload,
    signal: up.rx_metadata,
  };
});
