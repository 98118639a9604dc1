/**
 * Per device kind: which decoded field is which metric, in which unit (the unit must be the metric's
 * canonical unit or one of its altUnits: ingest converts). A kind's own metric names always map to
 * themselves in the canonical unit, so a codec that already speaks citymetrics needs no row; the rows here
 * are the names network-server codecs use, and the CayenneLPP fields (`<type>_<channel>`, cayenne-lpp.ts)
 * a sensor of the kind sends. The README's "LoRaWAN network servers" section shows this table.
 */
export interface FieldMapping {
  metric: string;
  unit: string;
}

export interface KindMapping {
  /** How an uplink the network server did not decode is decoded; null: such uplinks are refused. */
  codec: 'cayenne-lpp' | null;
  fields: Readonly<Record<string, FieldMapping>>;
}

const battery = {
  battery: { metric: 'battery', unit: '%' },
  battery_level: { metric: 'battery', unit: '%' },
};

// biome-ignore format: one field per line reads as a table
export const KIND_MAPPINGS: Readonly<Record<string, KindMapping>> = {
  'air-quality-station': {
    codec: 'cayenne-lpp',
    fields: {
      pm2_5: { metric: 'pm25', unit: 'µg/m³' },
      pm25: { metric: 'pm25', unit: 'µg/m³' },
      pm10: { metric: 'pm10', unit: 'µg/m³' },
      no2: { metric: 'no2', unit: 'µg/m³' },
      no2_ppb: { metric: 'no2', unit: 'ppb' },
      o3: { metric: 'o3', unit: 'µg/m³' },
      o3_ppb: { metric: 'o3', unit: 'ppb' },
      so2: { metric: 'so2', unit: 'µg/m³' },
      ...battery,
      analog_in_1: { metric: 'pm25', unit: 'µg/m³' },
      analog_in_2: { metric: 'pm10', unit: 'µg/m³' },
      analog_in_3: { metric: 'no2', unit: 'µg/m³' },
      analog_in_4: { metric: 'o3', unit: 'µg/m³' },
      analog_in_8: { metric: 'battery', unit: '%' },
    },
  },
  'noise-monitor': {
    codec: 'cayenne-lpp',
    fields: {
      laeq: { metric: 'laeq', unit: 'dB(A)' },
      LAeq: { metric: 'laeq', unit: 'dB(A)' },
      leq_a: { metric: 'laeq', unit: 'dB(A)' },
      ...battery,
      analog_in_1: { metric: 'laeq', unit: 'dB(A)' },
      analog_in_8: { metric: 'battery', unit: '%' },
    },
  },
  'water-smart-meter': {
    codec: 'cayenne-lpp',
    fields: {
      volume_m3: { metric: 'volume', unit: 'm³' },
      volume_l: { metric: 'volume', unit: 'L' },
      ...battery,
      analog_in_1: { metric: 'volume', unit: 'm³' },
      analog_in_8: { metric: 'battery', unit: '%' },
    },
  },
};

/** Gateway signal fields, kept as metrics only where the kind declares them (else dropped, not refused). */
export const SIGNAL_METRICS = { rssi: 'dBm', snr: 'dB' } as const;
