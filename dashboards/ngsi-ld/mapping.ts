/**
 * Which FIWARE Smart Data Model each device kind is published as, and how its metrics map onto the model's
 * attributes. Only metrics with a model attribute of the same meaning are listed: a metric without one (a
 * battery level, a pressure that the model reads as atmospheric) is left out rather than given an invented
 * name. README "NGSI-LD" holds the same table for people; test/e2e/ngsi-ld.test.ts holds it to this one.
 */

export interface MetricMapping {
  /** attribute of the Smart Data Model */
  attribute: string;
  /** UN/CEFACT Common Code of the value as published (after `scale`) */
  unitCode?: string;
  /** published value = canonical value × scale (the model wants a fraction where we keep %) */
  scale?: number;
}

export interface DeviceModel {
  type: 'AirQualityObserved' | 'NoiseLevelObserved' | 'TrafficFlowObserved' | 'WaterConsumptionObserved';
  kinds: readonly string[];
  metrics: Readonly<Record<string, MetricMapping>>;
  /** How the model dates an observation (see device-entities.ts). */
  dating: 'instant' | 'interval' | 'modified';
  /** The model's schema requires `location`: a device without a position is not published as it. */
  requiresLocation: boolean;
}

export const DEVICE_MODELS: readonly DeviceModel[] = [
  {
    // dataModel.Environment/AirQualityObserved: concentrations in µg/m³ (GQ), as our canonical units are.
    type: 'AirQualityObserved',
    kinds: ['air-quality-station'],
    metrics: {
      pm25: { attribute: 'pm25', unitCode: 'GQ' },
      pm10: { attribute: 'pm10', unitCode: 'GQ' },
      no2: { attribute: 'no2', unitCode: 'GQ' },
      so2: { attribute: 'so2', unitCode: 'GQ' },
      o3: { attribute: 'o3', unitCode: 'GQ' },
    },
    dating: 'instant',
    requiresLocation: true,
  },
  {
    // dataModel.Environment/NoiseLevelObserved: LAeq over the observation period, in decibels (2N).
    type: 'NoiseLevelObserved',
    kinds: ['noise-monitor'],
    metrics: { laeq: { attribute: 'LAeq', unitCode: '2N' } },
    dating: 'interval',
    requiresLocation: true,
  },
  {
    // dataModel.Transportation/TrafficFlowObserved: intensity is the vehicle count of the period; occupancy
    // is a fraction 0..1 (C62, "one") where we keep a percentage.
    type: 'TrafficFlowObserved',
    kinds: ['traffic-counter'],
    metrics: {
      count: { attribute: 'intensity' },
      speed: { attribute: 'averageVehicleSpeed', unitCode: 'KMH' },
      occupancy: { attribute: 'occupancy', unitCode: 'C62', scale: 0.01 },
    },
    dating: 'interval',
    requiresLocation: false,
  },
  {
    // dataModel.WaterConsumption/WaterConsumptionObserved: `waterConsumption` is the meter's register (a
    // cumulative total in whole m³, MTQ). Our meters report the volume of each interval, so the register is
    // the sum of every volume the meter has reported (see device-entities.ts).
    type: 'WaterConsumptionObserved',
    kinds: ['water-smart-meter'],
    metrics: { volume: { attribute: 'waterConsumption', unitCode: 'MTQ' } },
    dating: 'modified',
    requiresLocation: false,
  },
];

export const KPI_TYPE = 'KeyPerformanceIndicator';

export const ENTITY_TYPES: readonly string[] = [...DEVICE_MODELS.map((m) => m.type), KPI_TYPE];

export const modelOfKind = (kind: string): DeviceModel | undefined =>
  DEVICE_MODELS.find((m) => m.kinds.includes(kind));

/** UN/CEFACT Common Codes of the KPI units that have one; other KPI units are published without a code. */
export const KPI_UNIT_CODES: Readonly<Record<string, string>> = {
  '%': 'P1',
  'µg/m³': 'GQ',
  minutes: 'MIN',
  years: 'ANN',
};

/** `urn:ngsi-ld:<Type>:<local id>`, the id form the Smart Data Models examples use. */
export const entityUrn = (type: string, localId: string): string => `urn:ngsi-ld:${type}:${localId}`;
