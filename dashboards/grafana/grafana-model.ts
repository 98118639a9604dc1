/**
 * Small typed builders for Grafana dashboard JSON (schemaVersion 39, Grafana 10/11). Only what our
 * dashboards use: InfluxQL raw queries on one provisioned datasource with a fixed UID, query and constant
 * variables, timeseries / stat / table / bar-gauge panels laid out on the 24-column grid.
 */

import type {
  DashboardJson,
  InfluxQlTarget,
  PanelJson,
  Transformation,
  VariableJson,
} from './grafana-json.ts';

/** The provisioned InfluxDB datasource (provisioning/datasources/citymetrics.yaml): its UID never changes. */
export const DATASOURCE = Object.freeze({ type: 'influxdb', uid: 'citymetrics-influxdb' } as const);

export type PanelType = 'timeseries' | 'stat' | 'table' | 'bargauge';

export interface QuerySpec {
  /** Raw InfluxQL; may use $timeFilter, $__interval, $district, $device, $tz. */
  q: string;
  /** Legend, e.g. `$tag_district`. */
  alias?: string;
  format?: 'time_series' | 'table';
}

export interface Threshold {
  color: string;
  /** null for the base step */
  value: number | null;
}

export interface PanelSpec {
  title: string;
  type: PanelType;
  queries: QuerySpec[];
  description?: string;
  unit?: string;
  decimals?: number;
  /** Colour steps: for KPI bands (green = meets the target...). */
  thresholds?: Threshold[];
  /** Grid width (of 24) and height; defaults by type. */
  w?: number;
  h?: number;
  /** Stat panels: how a series reduces to one value. */
  reduce?: 'mean' | 'lastNotNull' | 'sum' | 'max';
  /** Grafana transformations, applied in order to the query results (e.g. merge measurements). */
  transformations?: Transformation[];
  /** Stat / bar gauge: one value per row of a table result rather than one per series. */
  perRow?: boolean;
  /** Panel time override: relative range (`29d`) and shift with rounding (`1d/d`: whole days). */
  timeFrom?: string;
  timeShift?: string;
}

export interface VariableSpec {
  name: string;
  label: string;
  /** `query`: InfluxQL (SHOW TAG VALUES...), multi-select with All; `constant`: fixed, hidden. */
  type: 'query' | 'constant';
  query: string;
}

export interface DashboardSpec {
  uid: string;
  title: string;
  description: string;
  tags: string[];
  variables: VariableSpec[];
  panels: PanelSpec[];
  /** default time range, e.g. now-7d */
  from?: string;
}

const DEFAULT_SIZE: Record<PanelType, { w: number; h: number }> = {
  stat: { w: 6, h: 4 },
  timeseries: { w: 12, h: 8 },
  table: { w: 12, h: 8 },
  bargauge: { w: 12, h: 8 },
};

function target(q: QuerySpec, i: number): InfluxQlTarget {
  return {
    refId: String.fromCharCode(65 + i),
    datasource: { ...DATASOURCE },
    rawQuery: true,
    query: q.q,
    resultFormat: q.format ?? 'time_series',
    ...(q.alias !== undefined ? { alias: q.alias } : {}),
  };
}

type GridPos = { x: number; y: number; w: number; h: number };
type FieldDefaults = PanelJson['fieldConfig']['defaults'];

/** Options a plugin's schema requires, at the defaults of its panelcfg (@grafana/schema, same version). */
function panel(p: PanelSpec, id: number, gridPos: GridPos): PanelJson {
  const defaults: FieldDefaults = {};
  if (p.unit !== undefined) defaults.unit = p.unit;
  if (p.decimals !== undefined) defaults.decimals = p.decimals;
  if (p.thresholds !== undefined)
    defaults.thresholds = {
      mode: 'absolute',
      steps: p.thresholds.map((t) => ({ color: t.color, value: t.value })),
    };
  const common = {
    id,
    title: p.title,
    ...(p.description !== undefined ? { description: p.description } : {}),
    gridPos,
    datasource: { ...DATASOURCE },
    targets: p.queries.map(target),
    ...(p.transformations !== undefined ? { transformations: p.transformations } : {}),
    ...(p.timeFrom !== undefined ? { timeFrom: p.timeFrom } : {}),
    ...(p.timeShift !== undefined ? { timeShift: p.timeShift } : {}),
  };
  const reduceOptions = (calc: string) => ({ calcs: [calc], fields: '', values: p.perRow === true });
  switch (p.type) {
    case 'stat':
      return {
        ...common,
        type: 'stat',
        fieldConfig: { defaults, overrides: [] },
        options: {
          reduceOptions: reduceOptions(p.reduce ?? 'mean'),
          colorMode: 'background',
          graphMode: 'area',
          justifyMode: 'auto',
          textMode: 'auto',
          orientation: 'auto',
          percentChangeColorMode: 'standard',
          showPercentChange: false,
          wideLayout: true,
        },
      };
    case 'bargauge':
      return {
        ...common,
        type: 'bargauge',
        fieldConfig: { defaults, overrides: [] },
        options: {
          reduceOptions: reduceOptions(p.reduce ?? 'lastNotNull'),
          displayMode: 'gradient',
          orientation: 'horizontal',
          showUnfilled: true,
          maxVizHeight: 300,
          minVizHeight: 16,
          minVizWidth: 8,
          namePlacement: 'auto',
          sizing: 'auto',
          valueMode: 'color',
        },
      };
    case 'table':
      return {
        ...common,
        type: 'table',
        fieldConfig: { defaults, overrides: [] },
        options: {
          showHeader: true,
          cellHeight: 'sm',
          frameIndex: 0,
          footer: { show: false, reducer: ['sum'], fields: [] },
        },
      };
    case 'timeseries':
      return {
        ...common,
        type: 'timeseries',
        fieldConfig: {
          defaults: {
            ...defaults,
            custom: { drawStyle: 'line', lineWidth: 1, fillOpacity: 10, spanNulls: false },
          },
          overrides: [],
        },
        options: {
          legend: { displayMode: 'list', placement: 'bottom', showLegend: true, calcs: [] },
          tooltip: { mode: 'multi', sort: 'none' },
        },
      };
  }
}

function variable(v: VariableSpec): VariableJson {
  if (v.type === 'constant')
    return { name: v.name, label: v.label, type: 'constant', query: v.query, hide: 2, skipUrlSync: false };
  return {
    name: v.name,
    label: v.label,
    type: 'query',
    datasource: { ...DATASOURCE },
    query: v.query,
    definition: v.query,
    refresh: 2,
    multi: true,
    includeAll: true,
    current: { selected: true, text: ['All'], value: ['$__all'] },
    sort: 1,
    hide: 0,
    skipUrlSync: false,
  };
}

/** Lays panels out left to right, wrapping at 24 columns; each row is as tall as its tallest panel. */
function layout(panels: readonly PanelSpec[]): Array<{ x: number; y: number; w: number; h: number }> {
  const out: Array<{ x: number; y: number; w: number; h: number }> = [];
  let x = 0;
  let y = 0;
  let rowH = 0;
  for (const p of panels) {
    const w = p.w ?? DEFAULT_SIZE[p.type].w;
    const h = p.h ?? DEFAULT_SIZE[p.type].h;
    if (x + w > 24) {
      x = 0;
      y += rowH;
      rowH = 0;
    }
    out.push({ x, y, w, h });
    x += w;
    rowH = Math.max(rowH, h);
  }
  return out;
}

/** The dashboard JSON Grafana provisions. `zone` is the city's IANA zone (display and tz() in queries). */
export function buildDashboard(spec: DashboardSpec, zone: string): DashboardJson {
  const grid = layout(spec.panels);
  return {
    uid: spec.uid,
    title: spec.title,
    description: spec.description,
    tags: ['citymetrics', ...spec.tags],
    timezone: zone,
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    refresh: '1m',
    time: { from: spec.from ?? 'now-7d', to: 'now' },
    templating: {
      list: [
        { name: 'tz', type: 'constant', label: 'City time zone', query: zone, hide: 2, skipUrlSync: false },
        ...spec.variables.map(variable),
      ],
    },
    annotations: { list: [] },
    links: [
      {
        title: 'citymetrics',
        type: 'dashboards',
        tags: ['citymetrics'],
        asDropdown: true,
        includeVars: true,
        keepTime: true,
        icon: 'external link',
        tooltip: '',
        targetBlank: false,
        url: '',
      },
    ],
    panels: spec.panels.map((p, i) => panel(p, i + 1, grid[i]!)),
  };
}
