import { deviceKinds } from '../../devices/kinds.ts';
import type { DashboardSpec } from './grafana-model.ts';
import {
  ACROSS_MEASUREMENTS,
  countOverTime,
  countPerTag,
  daily,
  devicesReporting,
  deviceVariable,
  districtVariable,
  lastSeen,
  overTime,
  perTag,
} from './influxql-helpers.ts';

const ALL_METRICS = [...new Set(deviceKinds.flatMap((k) => k.metrics.map((m) => m.name)))].sort();

export const electricity: DashboardSpec = {
  uid: 'citymetrics-electricity',
  title: 'citymetrics · Electricity',
  description: 'Consumption, feeder load, renewable generation and supply quality.',
  tags: ['electricity'],
  variables: [
    districtVariable,
    deviceVariable(['electricity-smart-meter', 'electricity-feeder-meter', 'renewable-generation-meter']),
  ],
  panels: [
    {
      title: 'Energy per day by source (kWh, city days)',
      type: 'timeseries',
      unit: 'kwatth',
      queries: [
        {
          q: daily('energy', 'sum', { kind: 'electricity-smart-meter', device: true }),
          alias: 'consumed (smart meters)',
        },
        {
          q: daily('energy', 'sum', { kind: 'electricity-feeder-meter', device: true }),
          alias: 'delivered (feeders)',
        },
        {
          q: daily('energy', 'sum', { kind: 'renewable-generation-meter', device: true }),
          alias: 'renewable generation',
        },
      ],
    },
    {
      title: 'Feeder load (kW)',
      type: 'timeseries',
      unit: 'kwatt',
      queries: [{ q: overTime('power', 'mean', { by: 'device', device: true }), alias: '$tag_device' }],
    },
    {
      title: 'Consumption by district (kWh per interval)',
      type: 'timeseries',
      unit: 'kwatth',
      queries: [
        {
          q: overTime('energy', 'sum', { kind: 'electricity-smart-meter', by: 'district', device: true }),
          alias: '$tag_district',
        },
      ],
    },
    {
      title: 'Supply voltage (V)',
      type: 'timeseries',
      unit: 'volt',
      queries: [{ q: overTime('voltage', 'mean', { by: 'district', device: true }), alias: '$tag_district' }],
    },
    {
      title: 'Supply status (1 = on)',
      type: 'timeseries',
      unit: 'none',
      queries: [{ q: overTime('supply', 'min', { by: 'district', device: true }), alias: '$tag_district' }],
    },
    {
      title: 'Generation per plant (kWh)',
      type: 'bargauge',
      unit: 'kwatth',
      queries: [
        {
          q: perTag('energy', 'sum', 'device', { kind: 'renewable-generation-meter', device: true }),
          alias: '$tag_device',
        },
      ],
    },
  ],
};

export const traffic: DashboardSpec = {
  uid: 'citymetrics-traffic',
  title: 'citymetrics · Traffic',
  description: 'Road-segment counters (vehicles, speed, occupancy) and adaptive signal controllers.',
  tags: ['traffic'],
  variables: [districtVariable, deviceVariable(['traffic-counter', 'traffic-signal-controller'])],
  panels: [
    {
      title: 'Vehicles per interval by district',
      type: 'timeseries',
      unit: 'none',
      queries: [{ q: overTime('count', 'sum', { by: 'district', device: true }), alias: '$tag_district' }],
    },
    {
      title: 'Mean speed (km/h)',
      type: 'timeseries',
      unit: 'velocitykmh',
      queries: [{ q: overTime('speed', 'mean', { by: 'device', device: true }), alias: '$tag_device' }],
    },
    {
      title: 'Occupancy (%)',
      type: 'timeseries',
      unit: 'percent',
      queries: [{ q: overTime('occupancy', 'mean', { by: 'device', device: true }), alias: '$tag_device' }],
    },
    {
      title: 'Vehicles per day (city days)',
      type: 'timeseries',
      unit: 'none',
      queries: [{ q: daily('count', 'sum', { device: true }), alias: 'vehicles' }],
    },
    {
      title: 'Signal cycles per controller',
      type: 'bargauge',
      unit: 'none',
      queries: [{ q: perTag('cycles', 'sum', 'device', { device: true }), alias: '$tag_device' }],
    },
  ],
};

export const devices: DashboardSpec = {
  uid: 'citymetrics-devices',
  title: 'citymetrics · Devices',
  description: 'Device health: battery, radio, last reading per device.',
  tags: ['devices'],
  variables: [districtVariable, deviceVariable()],
  panels: [
    {
      title: 'Battery (%) by device',
      type: 'timeseries',
      unit: 'percent',
      queries: [{ q: overTime('battery', 'last', { by: 'device', device: true }), alias: '$tag_device' }],
    },
    {
      title: 'Lowest battery (%)',
      type: 'bargauge',
      unit: 'percent',
      thresholds: [
        { color: 'red', value: null },
        { color: 'orange', value: 15 },
        { color: 'green', value: 30 },
      ],
      queries: [{ q: perTag('battery', 'min', 'device', { device: true }), alias: '$tag_device' }],
    },
    {
      title: 'Radio signal (dBm)',
      type: 'timeseries',
      unit: 'dBm',
      queries: [{ q: overTime('rssi', 'mean', { by: 'device', device: true }), alias: '$tag_device' }],
    },
    {
      title: 'Last battery report per device (epoch ms)',
      type: 'table',
      unit: 'dateTimeAsIso',
      queries: [{ q: lastSeen('battery', { device: true }), format: 'table' }],
    },
  ],
};

export const ingestHealth: DashboardSpec = {
  uid: 'citymetrics-ingest-health',
  title: 'citymetrics · Ingest health',
  description:
    'What reaches InfluxDB: values stored per interval and devices reporting. Refusals, backlog and write failures are Prometheus metrics on /metrics (citymetrics_store_write_failures_total, citymetrics_ingest_backlog_values).',
  tags: ['ingest', 'operations'],
  variables: [districtVariable],
  from: 'now-24h',
  panels: [
    {
      title: 'Values stored per interval',
      type: 'timeseries',
      unit: 'none',
      w: 24,
      queries: [{ q: countOverTime(ALL_METRICS), alias: '$measurement' }],
    },
    {
      title: 'Devices reporting per interval',
      type: 'timeseries',
      unit: 'none',
      queries: [{ q: devicesReporting(ALL_METRICS), format: 'table' }],
      transformations: ACROSS_MEASUREMENTS.distinctDevicesPerInterval,
    },
    {
      title: 'Values stored per district',
      type: 'bargauge',
      unit: 'none',
      reduce: 'sum',
      perRow: true,
      queries: [{ q: countPerTag(ALL_METRICS, 'district'), format: 'table' }],
      transformations: ACROSS_MEASUREMENTS.sumPer('district'),
    },
  ],
};
