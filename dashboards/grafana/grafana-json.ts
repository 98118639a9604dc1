import type {
  Dashboard,
  DashboardLink,
  DataQuery,
  FieldConfigSource,
  GraphFieldConfig,
  Panel,
  VariableModel,
} from '@grafana/schema';
import type { Options as BarGaugeOptions } from '@grafana/schema/dist/esm/raw/composable/bargauge/panelcfg/x/BarGaugePanelCfg_types.gen.js';
import type { Options as StatOptions } from '@grafana/schema/dist/esm/raw/composable/stat/panelcfg/x/StatPanelCfg_types.gen.js';
import type { Options as TableOptions } from '@grafana/schema/dist/esm/raw/composable/table/panelcfg/x/TablePanelCfg_types.gen.js';
import type { Options as TimeSeriesOptions } from '@grafana/schema/dist/esm/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen.js';

/**
 * The JSON shape of a provisioned dashboard, typed by @grafana/schema (the version of the Grafana image in
 * docker-compose.yml). The schema declares its enumerations as TypeScript enums, which JSON text can never
 * satisfy; `Json<T>` replaces each enum by the union of its values (`ThresholdsMode` → `'absolute' |
 * 'percentage'`, `VariableHide` → `0 | 1 | 2`) and keeps everything else, so a value the schema does not
 * allow, a missing required field or a misspelt key is still a type error.
 */
export type Json<T> = T extends string
  ? `${T}`
  : T extends number
    ? `${T}` extends `${infer N extends number}`
      ? N
      : number
    : T extends boolean | null | undefined
      ? T
      : T extends ReadonlyArray<infer U>
        ? Json<U>[]
        : T extends object
          ? { [K in keyof T]: Json<T[K]> }
          : T;

/**
 * An InfluxQL query of Grafana's InfluxDB datasource, as the raw-query editor saves it (the datasource's
 * own `InfluxQuery` in public/app/plugins/datasource/influxdb/types.ts; @grafana/schema has no type for it).
 */
export type InfluxQlTarget = Omit<Json<DataQuery>, 'datasource'> & {
  datasource: { type: 'influxdb'; uid: string };
  rawQuery: true;
  query: string;
  resultFormat: 'time_series' | 'table' | 'logs';
  alias?: string;
};

/** The transformations our panels use, with the options Grafana's transformers read. */
export type Transformation =
  | { id: 'merge'; options: Record<string, never> }
  | {
      id: 'groupBy';
      options: {
        fields: Record<
          string,
          { operation: 'groupby' } | { operation: 'aggregate'; aggregations: Array<'sum' | 'distinctCount'> }
        >;
      };
    }
  | {
      id: 'sortBy';
      options: { fields: Record<string, never>; sort: Array<{ field: string; desc?: boolean }> };
    };

type PanelBase = Omit<
  Json<Panel>,
  'type' | 'options' | 'fieldConfig' | 'targets' | 'transformations' | 'datasource'
> & {
  id: number;
  title: string;
  gridPos: Json<Required<Panel>['gridPos']>;
  datasource: { type: 'influxdb'; uid: string };
  targets: InfluxQlTarget[];
  transformations?: Transformation[];
};

/** Our four panel types, each with the options and field config its plugin's schema declares. */
export type PanelJson =
  | (PanelBase & {
      type: 'timeseries';
      options: Json<TimeSeriesOptions>;
      fieldConfig: Json<FieldConfigSource<GraphFieldConfig>>;
    })
  | (PanelBase & { type: 'stat'; options: Json<StatOptions>; fieldConfig: Json<FieldConfigSource> })
  | (PanelBase & { type: 'table'; options: Json<TableOptions>; fieldConfig: Json<FieldConfigSource> })
  | (PanelBase & { type: 'bargauge'; options: Json<BarGaugeOptions>; fieldConfig: Json<FieldConfigSource> });

/**
 * A template variable. `definition` is not in the schema's VariableModel but is what Grafana's query
 * variable editor saves (and shows) for the query text.
 */
export type VariableJson = Json<VariableModel> & { definition?: string };

/** A whole dashboard file: the schema's Dashboard with our panels and variables. */
export type DashboardJson = Omit<Json<Dashboard>, 'panels' | 'templating' | 'links'> & {
  uid: string;
  title: string;
  timezone: string;
  panels: PanelJson[];
  templating: { list: VariableJson[] };
  links: Json<DashboardLink>[];
};

// Ours must stay a narrowing of the schema's own type: a dashboard of ours is a schema Dashboard.
type Assignable<A, B> = [A] extends [B] ? true : never;
export const DASHBOARD_JSON_IS_A_SCHEMA_DASHBOARD: Assignable<DashboardJson, Json<Dashboard>> = true;
