import type { z } from 'zod';
import type { deviceKindSchema } from '../core/device-kind.ts';

type KindInput = z.input<typeof deviceKindSchema>;

/**
 * The device kinds the U4SSC KPIs need. Quantities that accumulate (energy,
 * volume, vehicles) are reported per reporting interval, not as a meter register, so that sums over any
 * period are plain sums. Conversions: canonical = value × factor + offset.
 */
const battery = {
  name: 'battery',
  description: 'battery charge',
  unit: '%',
  min: 0,
  max: 100,
  aggregation: 'last',
} as const;
const rssi = {
  name: 'rssi',
  description: 'radio signal strength',
  unit: 'dBm',
  min: -140,
  max: 0,
  aggregation: 'mean',
} as const;

/**
 * ppb → µg/m³ at one reference condition, the one Directive 2008/50/EC (Annex VI) sets for gases: 293.15 K
 * (20 °C) and 101.325 kPa. One ppb of a gas of molar mass M (g/mol) is M / Vm µg/m³, Vm = R·T/P =
 * 24.055 L/mol; NO2 46.0055/24.055 = 1.9125, SO2 64.066/24.055 = 2.6633, O3 47.9982/24.055 = 1.9954. At 25 °C
 * (Vm 24.465 L/mol) every factor would be 1.7 % lower: values converted differently do not compare.
 */
const MOLAR_VOLUME_L = (8.314462618 * 293.15) / 101.325;
// biome-ignore format: kept on one line, like the table below
const ppbAt20C = (molarMass: number, perPpb = 1) => ({ factor: (perPpb * molarMass) / MOLAR_VOLUME_L, note: `ppb → µg/m³: M ${molarMass} g/mol ÷ ${MOLAR_VOLUME_L.toFixed(3)} L/mol (20 °C, 101.325 kPa, Directive 2008/50/EC)` });
const NO2_G_MOL = 46.0055;
const SO2_G_MOL = 64.066;
const O3_G_MOL = 47.9982;

// biome-ignore format: one metric per line reads as a table; the formatter would spread each over ten lines
export const deviceKinds: KindInput[] = [
  {
    id: 'air-quality-station',
    name: 'Air-quality station',
    description: 'Ambient air monitor: particulate matter and gases (U4SSC EN: EN: AQ: 1C).',
    domain: 'air',
    intervalSec: 60,
    metrics: [
      { name: 'pm25', description: 'PM2.5 concentration', unit: 'µg/m³', altUnits: { 'ug/m3': { factor: 1 }, 'mg/m³': { factor: 1000 } }, min: 0, max: 1000, aggregation: 'mean' },
      { name: 'pm10', description: 'PM10 concentration', unit: 'µg/m³', altUnits: { 'ug/m3': { factor: 1 }, 'mg/m³': { factor: 1000 } }, min: 0, max: 2000, aggregation: 'mean' },
      { name: 'no2', description: 'NO2 concentration', unit: 'µg/m³', altUnits: { 'ug/m3': { factor: 1 }, ppb: ppbAt20C(NO2_G_MOL), ppm: ppbAt20C(NO2_G_MOL, 1000) }, min: 0, max: 2000, aggregation: 'mean' },
      { name: 'so2', description: 'SO2 concentration', unit: 'µg/m³', altUnits: { 'ug/m3': { factor: 1 }, ppb: ppbAt20C(SO2_G_MOL), ppm: ppbAt20C(SO2_G_MOL, 1000) }, min: 0, max: 2000, aggregation: 'mean' },
      { name: 'o3', description: 'O3 concentration', unit: 'µg/m³', altUnits: { 'ug/m3': { factor: 1 }, ppb: ppbAt20C(O3_G_MOL), ppm: ppbAt20C(O3_G_MOL, 1000) }, min: 0, max: 1000, aggregation: 'mean' },
      battery,
    ],
    events: ['calibration', 'maintenance'],
    attributes: { pollutants: { type: 'string', description: 'pollutants the station measures, comma-separated metric names (pm25,pm10,no2,so2,o3); absent: all five' } },
  },
  {
    id: 'noise-monitor',
    name: 'Noise monitor',
    description: 'Class 1/2 sound level meter reporting A-weighted equivalent level (U4SSC EN: EN: EQ: 2A).',
    domain: 'noise',
    intervalSec: 60,
    metrics: [
      { name: 'laeq', description: 'A-weighted equivalent continuous sound level over the interval', unit: 'dB(A)', altUnits: { dBA: { factor: 1 }, dB: { factor: 1 } }, min: 10, max: 150, aggregation: 'mean' },
      battery,
    ],
    events: ['calibration', 'maintenance'],
    attributes: {
      residentsExposed: { type: 'number', description: 'residents living within the area the monitor represents', unit: 'inhabitants' },
      roadside: { type: 'boolean', description: 'beside a main road (true) or in a residential background (false); simulated levels follow it' },
    },
  },
  {
    id: 'water-inflow-meter',
    name: 'Bulk / district water inflow meter',
    description: 'Volume entering the network or a district metered area (U4SSC EC: I: WS: 3C, water loss).',
    domain: 'water',
    intervalSec: 300,
    metrics: [
      { name: 'volume', description: 'volume that flowed in during the interval', unit: 'm³', altUnits: { m3: { factor: 1 }, L: { factor: 0.001 }, l: { factor: 0.001 } }, min: 0, max: 1_000_000, aggregation: 'sum' },
      { name: 'pressure', description: 'line pressure', unit: 'bar', altUnits: { kPa: { factor: 0.01 } }, min: 0, max: 40, aggregation: 'mean' },
    ],
    events: ['maintenance', 'leak_alarm'],
    attributes: { residentsServed: { type: 'number', description: 'residents supplied through this inflow (its zone); simulated flows follow it', unit: 'inhabitants' } },
  },
  {
    id: 'water-smart-meter',
    name: 'Customer smart water meter',
    description: 'Volume delivered to a customer (U4SSC EN: EN: WS: 2C consumption, EC: ICT: WS: 1C coverage).',
    domain: 'water',
    intervalSec: 900,
    metrics: [
      { name: 'volume', description: 'volume delivered during the interval', unit: 'm³', altUnits: { m3: { factor: 1 }, L: { factor: 0.001 }, l: { factor: 0.001 } }, min: 0, max: 1_000, aggregation: 'sum' },
      battery,
      rssi,
    ],
    events: ['leak_alarm', 'tamper'],
    attributes: { residents: { type: 'number', description: 'people living in the premises served', unit: 'inhabitants' } },
  },
  {
    id: 'water-quality-sonde',
    name: 'Drinking-water quality sonde',
    description: 'In-network water quality (U4SSC EN: EN: WS: 1C drinking water quality).',
    domain: 'water',
    intervalSec: 600,
    metrics: [
      { name: 'chlorine', description: 'free chlorine', unit: 'mg/L', altUnits: { ppm: { factor: 1 } }, min: 0, max: 20, aggregation: 'mean' },
      { name: 'turbidity', description: 'turbidity', unit: 'NTU', altUnits: {}, min: 0, max: 4000, aggregation: 'mean' },
      { name: 'ph', description: 'pH', unit: 'pH', altUnits: {}, min: 0, max: 14, aggregation: 'mean' },
    ],
    events: ['calibration', 'maintenance'],
  },
  {
    id: 'electricity-smart-meter',
    name: 'Customer electricity smart meter',
    description: 'Energy and supply status of one customer; last-gasp and restore events (U4SSC EC: I: ES: 1C/2C).',
    domain: 'electricity',
    intervalSec: 900,
    metrics: [
      { name: 'energy', description: 'active energy consumed during the interval', unit: 'kWh', altUnits: { Wh: { factor: 0.001 }, MWh: { factor: 1000 } }, min: 0, max: 10_000, aggregation: 'sum' },
      { name: 'supply', description: 'supply present (1) or not (0) at the reading time', unit: 'bool', altUnits: {}, min: 0, max: 1, aggregation: 'last' },
      { name: 'voltage', description: 'RMS voltage', unit: 'V', altUnits: { kV: { factor: 1000 } }, min: 0, max: 500, aggregation: 'mean' },
    ],
    events: ['outage_start', 'restore', 'tamper'],
    attributes: { customers: { type: 'number', description: 'customers behind this meter (1 for a household)', unit: 'customers' } },
  },
  {
    id: 'electricity-feeder-meter',
    name: 'Feeder / substation meter',
    description: 'Energy through a feeder or substation and its interruptions (U4SSC EN: E: E: 2C, EC: I: ES: 1C/2C).',
    domain: 'electricity',
    intervalSec: 300,
    metrics: [
      { name: 'energy', description: 'active energy delivered during the interval', unit: 'kWh', altUnits: { Wh: { factor: 0.001 }, MWh: { factor: 1000 } }, min: 0, max: 1_000_000, aggregation: 'sum' },
      { name: 'power', description: 'mean active power', unit: 'kW', altUnits: { W: { factor: 0.001 }, MW: { factor: 1000 } }, min: 0, max: 1_000_000, aggregation: 'mean' },
    ],
    events: ['outage_start', 'restore', 'maintenance'],
    attributes: { customersServed: { type: 'number', description: 'customers supplied through this feeder', unit: 'customers', required: true } },
  },
  {
    id: 'renewable-generation-meter',
    name: 'Renewable generation meter',
    description: 'Energy produced by a renewable plant in or for the city (U4SSC EN: E: E: 1C).',
    domain: 'electricity',
    intervalSec: 900,
    metrics: [
      { name: 'energy', description: 'energy generated during the interval', unit: 'kWh', altUnits: { Wh: { factor: 0.001 }, MWh: { factor: 1000 } }, min: 0, max: 1_000_000, aggregation: 'sum' },
    ],
    events: ['maintenance'],
    attributes: { source: { type: 'string', description: 'solar, wind, hydro, biomass or geothermal' } },
  },
  {
    id: 'traffic-counter',
    name: 'Road traffic counter',
    description: 'Loop, radar or camera counter on a road segment (U4SSC EC: ICT: T: 2C, EC: I: T: 5A).',
    domain: 'traffic',
    intervalSec: 60,
    metrics: [
      { name: 'count', description: 'vehicles passed during the interval', unit: 'vehicles', altUnits: { veh: { factor: 1 } }, min: 0, max: 10_000, aggregation: 'sum' },
      { name: 'speed', description: 'mean speed', unit: 'km/h', altUnits: { mph: { factor: 1.609344 }, 'm/s': { factor: 3.6 } }, min: 0, max: 300, aggregation: 'mean' },
      { name: 'occupancy', description: 'share of time the detector was occupied', unit: '%', altUnits: { ratio: { factor: 100 } }, min: 0, max: 100, aggregation: 'mean' },
    ],
    events: ['maintenance'],
    attributes: {
      segmentLengthKm: { type: 'number', description: 'length of the monitored road segment', unit: 'km', required: true },
      freeFlowSpeedKmh: { type: 'number', description: 'free-flow speed on the segment', unit: 'km/h', required: true },
      majorStreet: { type: 'boolean', description: 'the segment is part of the major street network' },
    },
  },
  {
    id: 'emf-probe',
    name: 'EMF probe',
    description: 'Broadband radio-frequency electric field monitor (U4SSC EN: EN: EQ: 1C).',
    domain: 'emf',
    intervalSec: 600,
    metrics: [
      { name: 'efield', description: 'RMS electric field strength', unit: 'V/m', altUnits: { 'mV/m': { factor: 0.001 } }, min: 0, max: 1000, aggregation: 'mean' },
      battery,
    ],
    events: ['calibration', 'maintenance'],
  },
  {
    id: 'transit-stop-display',
    name: 'Public-transport stop display',
    description: 'Live passenger information display; a heartbeat per interval proves it is live (U4SSC EC: ICT: T: 1C).',
    domain: 'transport',
    intervalSec: 60,
    metrics: [
      { name: 'heartbeat', description: 'live-information updates shown during the interval', unit: 'updates', altUnits: {}, min: 0, max: 10_000, aggregation: 'sum' },
    ],
    events: ['maintenance', 'display_fault'],
    attributes: { stopId: { type: 'string', description: 'transit agency stop code' } },
  },
  {
    id: 'traffic-signal-controller',
    name: 'Traffic signal controller',
    description: 'Intersection controller reporting adaptive operation (U4SSC EC: ICT: T: 3A).',
    domain: 'traffic',
    intervalSec: 300,
    metrics: [
      { name: 'adaptive', description: 'adaptive control active (1) or fixed time (0)', unit: 'bool', altUnits: {}, min: 0, max: 1, aggregation: 'last' },
      { name: 'cycles', description: 'signal cycles run during the interval', unit: 'cycles', altUnits: {}, min: 0, max: 1000, aggregation: 'sum' },
    ],
    events: ['maintenance', 'fault'],
    attributes: { intersectionId: { type: 'string', description: 'intersection code in the city asset register' } },
  },
  {
    id: 'heat-meter',
    name: 'Heat meter',
    description: 'Thermal energy delivered to a building (U4SSC EN: E: E: 3C residential thermal energy).',
    domain: 'heat',
    intervalSec: 3600,
    metrics: [
      { name: 'energy', description: 'thermal energy delivered during the interval', unit: 'kWh', altUnits: { MWh: { factor: 1000 }, GJ: { factor: 277.7778 }, Wh: { factor: 0.001 } }, min: 0, max: 100_000, aggregation: 'sum' },
    ],
    events: ['maintenance'],
    attributes: {
      residential: { type: 'boolean', description: 'the building is residential' },
      residents: { type: 'number', description: 'people living in the building', unit: 'inhabitants' },
    },
  },
  {
    id: 'building-energy-meter',
    name: 'Building energy meter',
    description: 'Energy used by a building (U4SSC EN: E: E: 4A public building energy, EC: I: B: 2A BMS).',
    domain: 'building',
    intervalSec: 900,
    metrics: [
      { name: 'energy', description: 'energy used during the interval', unit: 'kWh', altUnits: { Wh: { factor: 0.001 }, MWh: { factor: 1000 } }, min: 0, max: 100_000, aggregation: 'sum' },
    ],
    events: ['maintenance'],
    attributes: {
      publicBuilding: { type: 'boolean', description: 'owned or used by the city administration' },
      floorAreaM2: { type: 'number', description: 'gross floor area', unit: 'm²' },
      bms: { type: 'boolean', description: 'an integrated building management system runs the building' },
    },
  },
  {
    id: 'weighbridge',
    name: 'Waste facility weighbridge',
    description: 'Net solid waste weighed in at a treatment or disposal facility, one device per disposal route (U4SSC EN: EN: WA: 1C).',
    domain: 'waste',
    intervalSec: 3600,
    metrics: [
      { name: 'tonnage', description: 'net solid waste weighed in during the interval (gross − tare of every vehicle)', unit: 't', altUnits: { kg: { factor: 0.001 }, tonne: { factor: 1 } }, min: 0, max: 10_000, aggregation: 'sum' },
    ],
    events: ['calibration', 'maintenance'],
    attributes: { disposalMethod: { type: 'string', description: 'what becomes of the waste it weighs: landfill, open-burning, incineration, open-dump, recycling (composting included) or other', required: true } },
  },
  {
    id: 'drainage-sensor',
    name: 'Drainage / storm-water level and flow sensor',
    description: 'Level and flow in a sewer or storm-water reach; registered with the km of network it watches (U4SSC EC: ICT: D: 1A).',
    domain: 'water',
    intervalSec: 300,
    metrics: [
      { name: 'level', description: 'water level above the invert', unit: 'm', altUnits: { cm: { factor: 0.01 }, mm: { factor: 0.001 } }, min: 0, max: 20, aggregation: 'mean' },
      { name: 'flow', description: 'mean flow rate over the interval', unit: 'L/s', altUnits: { 'm³/s': { factor: 1000 }, 'm3/s': { factor: 1000 } }, min: 0, max: 100_000, aggregation: 'mean' },
      battery,
    ],
    events: ['maintenance', 'overflow_alarm'],
    attributes: {
      segmentLengthKm: { type: 'number', description: 'length of drainage network the sensor watches (its reach)', unit: 'km', required: true },
      reachId: { type: 'string', description: 'network reach code: sensors on one reach (a level and a flow sensor) count its km once' },
    },
  },
  {
    id: 'wifi-hotspot',
    name: 'Public Wi-Fi hotspot',
    description: 'Access point of the public Wi-Fi network, reporting from its controller; a reading proves it was up (U4SSC EC: ICT: ICT: 5C).',
    domain: 'ict',
    intervalSec: 300,
    metrics: [
      { name: 'clients', description: 'associated client devices, mean over the interval', unit: 'clients', altUnits: {}, min: 0, max: 5000, aggregation: 'mean' },
      { name: 'traffic', description: 'data carried during the interval, both directions', unit: 'MB', altUnits: { GB: { factor: 1000 }, kB: { factor: 0.001 } }, min: 0, max: 1_000_000, aggregation: 'sum' },
    ],
    events: ['maintenance', 'ap_down', 'ap_up'],
    attributes: { venue: { type: 'string', description: 'public place served (square, park, library, station...)' } },
  },
  {
    id: 'emergency-dispatch',
    name: 'Emergency dispatch (CAD) feed',
    description: 'Computer-aided dispatch of an emergency service: calls per interval, and per incident the call and the arrival on scene (AVL or crew status) as events with the incident id in `data.incident` (U4SSC SC: SH: SA: 5A).',
    domain: 'safety',
    intervalSec: 300,
    metrics: [
      { name: 'calls', description: 'emergency calls received during the interval', unit: 'calls', altUnits: {}, min: 0, max: 10_000, aggregation: 'sum' },
    ],
    events: ['incident_call', 'incident_arrival', 'incident_cancel', 'maintenance'],
    attributes: { service: { type: 'string', description: 'fire, ambulance, police or a combined centre' } },
  },
  {
    id: 'broadband-probe',
    name: 'Mobile broadband probe',
    description: 'Fixed probe measuring mobile network signal per layer at its location; no signal of a layer is reported as the floor of its range (U4SSC EC: ICT: ICT: 4C).',
    domain: 'ict',
    intervalSec: 900,
    metrics: [
      { name: 'samples', description: 'radio measurements taken during the interval (the probe is live)', unit: 'samples', altUnits: {}, min: 0, max: 100_000, aggregation: 'sum' },
      { name: 'rsrp', description: '4G LTE reference signal received power, best cell', unit: 'dBm', altUnits: {}, min: -156, max: -31, aggregation: 'mean' },
      { name: 'rscp', description: '3G UMTS received signal code power, best cell', unit: 'dBm', altUnits: {}, min: -140, max: -20, aggregation: 'mean' },
      { name: 'throughput', description: 'downlink throughput of a test transfer', unit: 'Mbit/s', altUnits: { 'kbit/s': { factor: 0.001 } }, min: 0, max: 10_000, aggregation: 'mean' },
    ],
    events: ['maintenance'],
    attributes: { operator: { type: 'string', description: 'mobile network measured (a probe per operator at one site)' } },
  },
];
