import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseChirpstackUp } from './chirpstack.ts';
import { parseThingsStackUp } from './things-stack.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'lorawan');
const raw = (name: string) => readFileSync(join(FIXTURES, name));

describe('uplink parsers on the documented shapes', () => {
  it('reads a ChirpStack v4 up event: DevEUI, time to the ms, fCnt, object, best gateway', () => {
    expect(parseChirpstackUp(raw('chirpstack-v4-up.json'))).toEqual({
      ok: true,
      uplink: {
        devEui: '0101010101010101',
        receivedAt: Date.parse('2022-07-18T09:34:15.775Z'),
        fCnt: 10,
        decoded: { pm2_5: 12.4, pm10: 20.1, battery: 87 },
        payload: Buffer.from([0xaa]),
        signal: { rssi: -36, snr: 10.5 },
      },
    });
  });

  it('reads a TTS v3 uplink: DevEUI lower-cased, the Network Server receive time, f_cnt, decoded_payload', () => {
    expect(parseThingsStackUp(raw('tts-v3-up.json'))).toEqual({
      ok: true,
      uplink: {
        devEui: '0004a30b001c0530',
        receivedAt: Date.parse('2020-02-12T15:15:45.789Z'),
        fCnt: 1,
        decoded: { temperature: 1, luminosity: 0.64 },
        payload: Buffer.from('gkHe', 'base64'),
        signal: { rssi: -35, snr: 5 },
      },
    });
  });

  it('takes an absent frame counter as 0 and refuses what is not an uplink', () => {
    const up = JSON.parse(raw('chirpstack-v4-up.json').toString()) as Record<string, unknown>;
    delete up.fCnt;
    const parsed = parseChirpstackUp(Buffer.from(JSON.stringify(up)));
    expect(parsed.ok && parsed.uplink.fCnt).toBe(0);
    expect(parseChirpstackUp(Buffer.from('{"time":"yesterday"}')).ok).toBe(false);
    expect(parseThingsStackUp(Buffer.from('\x00\x01')).ok).toBe(false);
  });
});
