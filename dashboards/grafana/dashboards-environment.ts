import type { DashboardSpec, Threshold } from './grafana-model.ts';
import {
  daily,
  deviceVariable,
  districtVariable,
  maxOfHourlyMeans,
  meanOfDaily,
  overall,
  overTime,
  perTag,
  WHOLE_DAYS,
} from './influxql-helpers.ts';

/** Bands: green meets the target, yellow/orange in between, red far off (colours Grafana knows). */
const bands = (...limits: number[]): Threshold[] => {
  const colors = ['green', 'yellow', 'orange', 'red'];
  return [
    { color: colors[0]!, value: null },
    ...limits.map((value, i) => ({ color: colors[i + 1]!, value })),
  ];
};

// WHO 2021 air-quality guidelines (annual guideline, then interim targets), µg/m³; WHO 2018 noise, dB(A).
export const BANDS = {
  pm25: bands(5, 15, 25),
  pm10: bands(15, 30, 50),
  no2: bands(10, 20, 40),
  laeq: bands(53, 60, 70),
  chlorine: [
    { color: 'red', value: null },
    { color: 'green', value: 0.2 },
    { color: 'orange', value: 1 },
    { color: 'red', value: 5 },
  ],
} as const;

// Grafana unit ids (valueFormats/categories.ts): µg/m³ is spelt with the Greek mu U+03BC, not the micro
// sign U+00B5 (an unknown id is shown as literal text); Grafana has no mg/L, so a custom suffix unit.
const UG_M3 = 'con\u03bcgm3';
const MG_L = 'suffix:mg/L';
// Nor litres per second (only L/h, L/min and m³/s): a custom suffix keeps the unit drainage flow is stored in.
const L_PER_S = 'suffix:L/s';

const AIR = 'air-quality-station';
const NOISE = 'noise-monitor';

export const cityOverview: DashboardSpec = {
  uid: 'citymetrics-city-overview',
  title: 'citymetrics · City overview',
  description:
    'Headline sensor-derived indicators over the selected range (the per-day means over the last 30 whole city days), coloured by their benchmark band. The authoritative U4SSC KPI values (with completeness and lineage) are in the citymetrics API.',
  tags: ['overview', 'kpi'],
  variables: [districtVariable],
  from: 'now-30d',
  panels: [
    {
      title: 'PM2.5 (µg/m³, mean)',
      type: 'stat',
      unit: UG_M3,
      decimals: 1,
      thresholds: [...BANDS.pm25],
      queries: [{ q: overall('pm25', 'mean') }],
    },
    {
      title: 'PM10 (µg/m³, mean)',
      type: 'stat',
      unit: UG_M3,
      decimals: 1,
      thresholds: [...BANDS.pm10],
      queries: [{ q: overall('pm10', 'mean') }],
    },
    {
      title: 'NO2 (µg/m³, mean)',
      type: 'stat',
      unit: UG_M3,
      decimals: 1,
      thresholds: [...BANDS.no2],
      queries: [{ q: overall('no2', 'mean') }],
    },
    {
      title: 'Noise LAeq (dB(A), energetic mean)',
      type: 'stat',
      unit: 'dB',
      decimals: 1,
      thresholds: [...BANDS.laeq],
      queries: [{ q: overall('laeq', 'energetic') }],
    },
    {
      title: 'Electricity used per day (kWh, last 30 whole days)',
      type: 'stat',
      unit: 'kwatth',
      decimals: 0,
      ...WHOLE_DAYS,
      queries: [{ q: meanOfDaily('energy', 'sum', { kind: 'electricity-smart-meter' }) }],
    },
    {
      title: 'Renewable generation per day (kWh, last 30 whole days)',
      type: 'stat',
      unit: 'kwatth',
      decimals: 0,
      ...WHOLE_DAYS,
      queries: [{ q: meanOfDaily('energy', 'sum', { kind: 'renewable-generation-meter' }) }],
    },
    {
      title: 'Water into the network per day (m³, last 30 whole days)',
      type: 'stat',
      unit: 'm3',
      decimals: 0,
      ...WHOLE_DAYS,
      queries: [{ q: meanOfDaily('volume', 'sum', { kind: 'water-inflow-meter' }) }],
    },
    {
      title: 'Mean traffic speed (km/h)',
      type: 'stat',
      unit: 'velocitykmh',
      decimals: 0,
      queries: [{ q: overall('speed', 'mean') }],
    },
    {
      title: 'PM2.5 daily mean by district',
      type: 'timeseries',
      unit: UG_M3,
      thresholds: [...BANDS.pm25],
      queries: [{ q: daily('pm25', 'mean', { by: 'district' }), alias: '$tag_district' }],
    },
    {
      title: 'Noise daily LAeq by district (energetic)',
      type: 'timeseries',
      unit: 'dB',
      thresholds: [...BANDS.laeq],
      queries: [{ q: daily('laeq', 'energetic', { by: 'district' }), alias: '$tag_district' }],
    },
  ],
};

export const airQuality: DashboardSpec = {
  uid: 'citymetrics-air-quality',
  title: 'citymetrics · Air quality',
  description: 'Ambient air: PM2.5, PM10, NO2, SO2, O3 (µg/m³ at EU reference conditions).',
  tags: ['air'],
  variables: [districtVariable, deviceVariable([AIR])],
  panels: [
    ...(['pm25', 'pm10', 'no2', 'o3'] as const).map((m) => ({
      title: `${m.toUpperCase()} by district`,
      type: 'timeseries' as const,
      unit: UG_M3,
      queries: [{ q: overTime(m, 'mean', { by: 'district', device: true }), alias: '$tag_district' }],
    })),
    {
      title: 'SO2 by device',
      type: 'timeseries',
      unit: UG_M3,
      queries: [{ q: overTime('so2', 'mean', { by: 'device', device: true }), alias: '$tag_device' }],
    },
    {
      title: 'PM2.5 daily mean (city days)',
      type: 'timeseries',
      unit: UG_M3,
      thresholds: [...BANDS.pm25],
      queries: [{ q: daily('pm25', 'mean', { device: true }), alias: 'PM2.5' }],
    },
    {
      title: 'PM2.5 mean per station',
      type: 'bargauge',
      unit: UG_M3,
      thresholds: [...BANDS.pm25],
      queries: [{ q: perTag('pm25', 'mean', 'device', { device: true }), alias: '$tag_device' }],
    },
    {
      title: 'NO2 highest hourly value per station',
      type: 'table',
      unit: UG_M3,
      queries: [{ q: maxOfHourlyMeans('no2', 'device', { device: true }), format: 'table' }],
    },
  ],
};

export const noise: DashboardSpec = {
  uid: 'citymetrics-noise',
  title: 'citymetrics · Noise',
  description: 'A-weighted equivalent sound level (LAeq) from noise monitors.',
  tags: ['noise'],
  variables: [districtVariable, deviceVariable([NOISE])],
  panels: [
    {
      title: 'LAeq by district',
      type: 'timeseries',
      unit: 'dB',
      thresholds: [...BANDS.laeq],
      queries: [
        { q: overTime('laeq', 'energetic', { by: 'district', device: true }), alias: '$tag_district' },
      ],
    },
    {
      title: 'LAeq by monitor',
      type: 'timeseries',
      unit: 'dB',
      queries: [{ q: overTime('laeq', 'energetic', { by: 'device', device: true }), alias: '$tag_device' }],
    },
    {
      title: 'Daily LAeq (city days, energetic)',
      type: 'timeseries',
      unit: 'dB',
      thresholds: [...BANDS.laeq],
      queries: [{ q: daily('laeq', 'energetic', { device: true }), alias: 'LAeq' }],
    },
    {
      title: 'Loudest interval per monitor',
      type: 'bargauge',
      unit: 'dB',
      thresholds: [...BANDS.laeq],
      queries: [{ q: perTag('laeq', 'max', 'device', { device: true }), alias: '$tag_device' }],
    },
  ],
};

export const water: DashboardSpec = {
  uid: 'citymetrics-water',
  title: 'citymetrics · Water',
  description:
    'Network inflow, customer consumption, pressure, drinking-water quality, and drainage / storm-water level and flow.',
  tags: ['water', 'drainage'],
  variables: [
    districtVariable,
    deviceVariable(['water-inflow-meter', 'water-smart-meter', 'water-quality-sonde', 'drainage-sensor']),
  ],
  panels: [
    {
      title: 'Inflow (m³ per interval)',
      type: 'timeseries',
      unit: 'm3',
      queries: [
        {
          q: overTime('volume', 'sum', { kind: 'water-inflow-meter', by: 'district', device: true }),
          alias: '$tag_district',
        },
      ],
    },
    {
      title: 'Customer consumption (m³ per interval)',
      type: 'timeseries',
      unit: 'm3',
      queries: [
        {
          q: overTime('volume', 'sum', { kind: 'water-smart-meter', by: 'district', device: true }),
          alias: '$tag_district',
        },
      ],
    },
    {
      title: 'Inflow and consumption per day (m³, city days)',
      type: 'timeseries',
      unit: 'm3',
      queries: [
        { q: daily('volume', 'sum', { kind: 'water-inflow-meter', device: true }), alias: 'inflow' },
        { q: daily('volume', 'sum', { kind: 'water-smart-meter', device: true }), alias: 'consumption' },
      ],
    },
    {
      title: 'Pressure (bar)',
      type: 'timeseries',
      unit: 'pressurebar',
      queries: [{ q: overTime('pressure', 'mean', { by: 'device', device: true }), alias: '$tag_device' }],
    },
    {
      title: 'Free chlorine (mg/L)',
      type: 'timeseries',
      unit: MG_L,
      thresholds: [...BANDS.chlorine],
      queries: [{ q: overTime('chlorine', 'mean', { by: 'device', device: true }), alias: '$tag_device' }],
    },
    {
      title: 'Turbidity (NTU)',
      type: 'timeseries',
      unit: 'none',
      queries: [{ q: overTime('turbidity', 'max', { by: 'device', device: true }), alias: '$tag_device' }],
    },
    {
      title: 'pH',
      type: 'timeseries',
      unit: 'none',
      queries: [{ q: overTime('ph', 'mean', { by: 'device', device: true }), alias: '$tag_device' }],
    },
    {
      title: 'Drainage water level (m above invert)',
      type: 'timeseries',
      unit: 'lengthm',
      queries: [{ q: overTime('level', 'mean', { by: 'device', device: true }), alias: '$tag_device' }],
    },
    {
      title: 'Drainage flow (L/s)',
      type: 'timeseries',
      unit: L_PER_S,
      queries: [{ q: overTime('flow', 'mean', { by: 'device', device: true }), alias: '$tag_device' }],
    },
    {
      title: 'Highest drainage level per sensor (m)',
      type: 'bargauge',
      unit: 'lengthm',
      queries: [{ q: perTag('level', 'max', 'device', { device: true }), alias: '$tag_device' }],
    },
  ],
};
