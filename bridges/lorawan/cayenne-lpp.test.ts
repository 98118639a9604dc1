import { describe, expect, it } from 'vitest';
import { decodeCayenneLpp } from './cayenne-lpp.ts';

// Known answers: the LPP document's own examples first, then one per type, then the broken payloads.
const decoded: Array<[string, string, Record<string, unknown>]> = [
  ['LPP example: two temperatures', '03670110056700FF', { temperature_3: 27.2, temperature_5: 25.5 }],
  [
    'LPP example: temperature and accelerometer',
    '016700FF067104D2FB2E0000',
    { temperature_1: 25.5, accelerometer_6: { x: 1.234, y: -1.234, z: 0 } },
  ],
  [
    'LPP example: GPS',
    '018806765ff2960a0003e8',
    { gps_1: { latitude: 42.3519, longitude: -87.9094, altitude: 10 } },
  ],
  ['negative temperature', '0267FF38', { temperature_2: -20 }],
  ['digital in and out', '0A00010B0100', { digital_in_10: 1, digital_out_11: 0 }],
  ['analog in (signed, 0.01)', '0402FC18', { analog_in_4: -10 }],
  ['analog out', '050304D2', { analog_out_5: 12.34 }],
  ['illuminance (unsigned lux)', '0665FFFF', { luminosity_6: 65535 }],
  ['presence', '076601', { presence_7: 1 }],
  ['humidity (0.5 %)', '08689F', { relative_humidity_8: 79.5 }],
  ['barometer (0.1 hPa)', '0973278F', { barometric_pressure_9: 1012.7 }],
  ['gyrometer (0.01 °/s)', '0C8600640000FF9C', { gyrometer_12: { x: 1, y: 0, z: -1 } }],
];

describe('CayenneLPP decode', () => {
  it.each(decoded)('%s', (_name, hex, fields) => {
    expect(decodeCayenneLpp(Buffer.from(hex, 'hex'))).toEqual({ ok: true, fields });
  });

  it.each([
    ['empty', '', 'empty payload'],
    ['unknown type', '01FF00', 'unknown LPP type 255'],
    ['value cut short', '016701', 'temperature needs 2 bytes'],
    ['channel without a type', '0167010001', 'channel without a type'],
    ['field given twice', '0167010001670102', 'temperature_1 given twice'],
  ])('refuses %s', (_name, hex, reason) => {
    expect(decodeCayenneLpp(Buffer.from(hex, 'hex'))).toMatchObject({ ok: false, reason });
  });
});
