/**
 * Cayenne Low Power Payload (LPP) decoding, the codec of most off-the-shelf LoRaWAN sensors and the one
 * The Things Stack offers as a built-in formatter. Written here rather than taken from npm: the packages
 * there are single releases without types or upkeep, and the format is a small fixed table.
 *
 * The format (myDevices, "Cayenne Docs: LoRa", the LPP table; reference C++ in myDevicesIoT/CayenneLPP):
 * a payload is a sequence of [channel: 1 byte][type: 1 byte][data: size bytes], multi-byte values
 * big-endian. Output fields are named `<key>_<channel>` with the keys of The Things Stack's formatter
 * (lorawan-stack pkg/messageprocessors/cayennelpp/keys.go), so one mapping table serves an uplink that
 * arrives decoded by TTS and one decoded here: `temperature_1`, `analog_in_2`, `gps_3`...
 */

export type LppValue = number | { x: number; y: number; z: number } | GpsValue;
interface GpsValue {
  latitude: number;
  longitude: number;
  altitude: number;
}

interface LppType {
  key: string;
  size: number;
  read(data: Buffer, at: number): LppValue;
}

const u8 = (d: Buffer, at: number) => d.readUInt8(at);
/** Fixed-point: `raw × resolution`, rounded to the resolution's decimals so 0.1 × 215 reads 21.5, not 21.500000000000004. */
const scaled = (raw: number, resolution: number, decimals: number) =>
  Number((raw * resolution).toFixed(decimals));
const i24 = (d: Buffer, at: number) => d.readIntBE(at, 3);

const axes = (d: Buffer, at: number, resolution: number, decimals: number) => ({
  x: scaled(d.readInt16BE(at), resolution, decimals),
  y: scaled(d.readInt16BE(at + 2), resolution, decimals),
  z: scaled(d.readInt16BE(at + 4), resolution, decimals),
});

/** LPP type byte → key, data size and resolution (LPP table: data size, "data resolution per bit"). */
export const LPP_TYPES: ReadonlyMap<number, LppType> = new Map<number, LppType>([
  [0, { key: 'digital_in', size: 1, read: u8 }],
  [1, { key: 'digital_out', size: 1, read: u8 }],
  [2, { key: 'analog_in', size: 2, read: (d, at) => scaled(d.readInt16BE(at), 0.01, 2) }],
  [3, { key: 'analog_out', size: 2, read: (d, at) => scaled(d.readInt16BE(at), 0.01, 2) }],
  // Illuminance, 1 lux unsigned.
  [101, { key: 'luminosity', size: 2, read: (d, at) => d.readUInt16BE(at) }],
  [102, { key: 'presence', size: 1, read: u8 }],
  // 0.1 °C signed.
  [103, { key: 'temperature', size: 2, read: (d, at) => scaled(d.readInt16BE(at), 0.1, 1) }],
  // 0.5 % unsigned.
  [104, { key: 'relative_humidity', size: 1, read: (d, at) => scaled(d.readUInt8(at), 0.5, 1) }],
  // 0.001 G signed per axis.
  [113, { key: 'accelerometer', size: 6, read: (d, at) => axes(d, at, 0.001, 3) }],
  // 0.1 hPa unsigned.
  [115, { key: 'barometric_pressure', size: 2, read: (d, at) => scaled(d.readUInt16BE(at), 0.1, 1) }],
  // 0.01 °/s signed per axis.
  [134, { key: 'gyrometer', size: 6, read: (d, at) => axes(d, at, 0.01, 2) }],
  // Latitude and longitude 0.0001 ° signed, altitude 0.01 m signed, 3 bytes each.
  [
    136,
    {
      key: 'gps',
      size: 9,
      read: (d, at) => ({
        latitude: scaled(i24(d, at), 0.0001, 4),
        longitude: scaled(i24(d, at + 3), 0.0001, 4),
        altitude: scaled(i24(d, at + 6), 0.01, 2),
      }),
    },
  ],
]);

export type LppResult =
  | { ok: true; fields: Record<string, LppValue> }
  | { ok: false; reason: string; at: number };

/**
 * Decodes a whole payload, or says where it stops making sense: an unknown type, a value cut short, or a
 * channel and type given twice (two values for one field: which is right cannot be known). Never throws.
 */
export function decodeCayenneLpp(payload: Buffer): LppResult {
  if (payload.length === 0) return { ok: false, reason: 'empty payload', at: 0 };
  const fields: Record<string, LppValue> = {};
  let at = 0;
  while (at < payload.length) {
    if (at + 2 > payload.length) return { ok: false, reason: 'channel without a type', at };
    const channel = payload[at]!;
    const typeByte = payload[at + 1]!;
    const type = LPP_TYPES.get(typeByte);
    if (type === undefined) return { ok: false, reason: `unknown LPP type ${typeByte}`, at: at + 1 };
    if (at + 2 + type.size > payload.length)
      return { ok: false, reason: `${type.key} needs ${type.size} bytes`, at: at + 2 };
    const name = `${type.key}_${channel}`;
    if (name in fields) return { ok: false, reason: `${name} given twice`, at };
    fields[name] = type.read(payload, at + 2);
    at += 2 + type.size;
  }
  return { ok: true, fields };
}
