import type { DashboardSpec } from './grafana-model.ts';
import { daily, deviceVariable, districtVariable, overTime, perTag } from './influxql-helpers.ts';

const WEIGHBRIDGE = 'weighbridge';
const WIFI = 'wifi-hotspot';
const BROADBAND = 'broadband-probe';
const DISPATCH = 'emergency-dispatch';
const HEAT = 'heat-meter';
const BUILDING = 'building-energy-meter';

export const waste: DashboardSpec = {
  uid: 'citymetrics-waste',
  title: 'citymetrics · Solid waste',
  description:
    'Net tonnage weighed in at treatment and disposal facilities, one weighbridge per disposal route. The Solid Waste Treatment shares by disposal method (with completeness and lineage) are in the citymetrics API.',
  tags: ['waste'],
  variables: [districtVariable, deviceVariable([WEIGHBRIDGE])],
  panels: [
    {
      title: 'Waste weighed in per day (t, city days)',
      type: 'timeseries',
      unit: 'masst',
      queries: [{ q: daily('tonnage', 'sum', { device: true }), alias: 'weighed in' }],
    },
    {
      title: 'Waste weighed in by district (t per interval)',
      type: 'timeseries',
      unit: 'masst',
      queries: [{ q: overTime('tonnage', 'sum', { by: 'district', device: true }), alias: '$tag_district' }],
    },
    {
      title: 'Tonnage per weighbridge (t)',
      type: 'bargauge',
      unit: 'masst',
      queries: [{ q: perTag('tonnage', 'sum', 'device', { device: true }), alias: '$tag_device' }],
    },
  ],
};

export const connectivity: DashboardSpec = {
  uid: 'citymetrics-connectivity',
  title: 'citymetrics · Connectivity',
  description:
    'Public Wi-Fi hotspots (clients, data carried) and mobile broadband probes (signal per layer, throughput). A hotspot that stored a reading in the range was up; the Wi-Fi availability and broadband coverage KPIs are in the citymetrics API.',
  tags: ['ict', 'wifi', 'broadband'],
  variables: [districtVariable, deviceVariable([WIFI, BROADBAND])],
  panels: [
    {
      title: 'Wi-Fi clients by hotspot (mean)',
      type: 'timeseries',
      unit: 'none',
      queries: [{ q: overTime('clients', 'mean', { by: 'device', device: true }), alias: '$tag_device' }],
    },
    {
      title: 'Wi-Fi data carried per day (MB, city days)',
      type: 'timeseries',
      unit: 'decmbytes',
      queries: [{ q: daily('traffic', 'sum', { by: 'district', device: true }), alias: '$tag_district' }],
    },
    {
      title: 'Wi-Fi readings per hotspot (a hotspot missing: not up in the range)',
      type: 'bargauge',
      unit: 'none',
      queries: [{ q: perTag('clients', 'count', 'device', { device: true }), alias: '$tag_device' }],
    },
    {
      title: '4G RSRP by probe (dBm)',
      type: 'timeseries',
      unit: 'dBm',
      queries: [{ q: overTime('rsrp', 'mean', { by: 'device', device: true }), alias: '$tag_device' }],
    },
    {
      title: '3G RSCP by probe (dBm)',
      type: 'timeseries',
      unit: 'dBm',
      queries: [{ q: overTime('rscp', 'mean', { by: 'device', device: true }), alias: '$tag_device' }],
    },
    {
      title: 'Weakest 4G RSRP per probe (dBm)',
      type: 'bargauge',
      unit: 'dBm',
      queries: [{ q: perTag('rsrp', 'min', 'device', { device: true }), alias: '$tag_device' }],
    },
    {
      title: 'Downlink throughput by probe (Mbit/s)',
      type: 'timeseries',
      unit: 'Mbits',
      queries: [{ q: overTime('throughput', 'mean', { by: 'device', device: true }), alias: '$tag_device' }],
    },
    {
      title: 'Radio samples per probe',
      type: 'bargauge',
      unit: 'none',
      queries: [{ q: perTag('samples', 'sum', 'device', { device: true }), alias: '$tag_device' }],
    },
  ],
};

export const emergency: DashboardSpec = {
  uid: 'citymetrics-emergency',
  title: 'citymetrics · Emergency services',
  description:
    'Emergency calls received by the dispatch centres. Response times are measured per incident from its call and arrival events, not from a series: the Emergency Service Response Time KPI is in the citymetrics API.',
  tags: ['safety'],
  variables: [districtVariable, deviceVariable([DISPATCH])],
  panels: [
    {
      title: 'Emergency calls per day (city days)',
      type: 'timeseries',
      unit: 'none',
      queries: [{ q: daily('calls', 'sum', { device: true }), alias: 'calls' }],
    },
    {
      title: 'Emergency calls by district (per interval)',
      type: 'timeseries',
      unit: 'none',
      queries: [{ q: overTime('calls', 'sum', { by: 'district', device: true }), alias: '$tag_district' }],
    },
    {
      title: 'Calls per dispatch centre',
      type: 'bargauge',
      unit: 'none',
      queries: [{ q: perTag('calls', 'sum', 'device', { device: true }), alias: '$tag_device' }],
    },
  ],
};

export const heatAndBuildings: DashboardSpec = {
  uid: 'citymetrics-heat-buildings',
  title: 'citymetrics · Heat and buildings',
  description:
    'Thermal energy delivered by heat meters and energy used by metered buildings (kWh). Heat and feeder kWh feed the partial GHG Emissions estimate, whose emission factors are in the citymetrics API.',
  tags: ['heat', 'building', 'ghg'],
  variables: [districtVariable, deviceVariable([HEAT, BUILDING])],
  panels: [
    {
      title: 'Heat and building energy per day (kWh, city days)',
      type: 'timeseries',
      unit: 'kwatth',
      queries: [
        { q: daily('energy', 'sum', { kind: HEAT, device: true }), alias: 'heat delivered' },
        { q: daily('energy', 'sum', { kind: BUILDING, device: true }), alias: 'building energy' },
      ],
    },
    {
      title: 'Heat delivered by district (kWh per interval)',
      type: 'timeseries',
      unit: 'kwatth',
      queries: [
        {
          q: overTime('energy', 'sum', { kind: HEAT, by: 'district', device: true }),
          alias: '$tag_district',
        },
      ],
    },
    {
      title: 'Heat per meter (kWh)',
      type: 'bargauge',
      unit: 'kwatth',
      queries: [{ q: perTag('energy', 'sum', 'device', { kind: HEAT, device: true }), alias: '$tag_device' }],
    },
    {
      title: 'Energy per building (kWh)',
      type: 'bargauge',
      unit: 'kwatth',
      queries: [
        { q: perTag('energy', 'sum', 'device', { kind: BUILDING, device: true }), alias: '$tag_device' },
      ],
    },
  ],
};
