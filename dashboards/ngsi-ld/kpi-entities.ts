import { compactCode } from '../../metrics/catalogue/catalogue.ts';
import type { KpiService } from '../../metrics/kpi-service.ts';
import type { KpiValue } from '../../metrics/kpi-types.ts';
import { periodFromLabel } from '../../metrics/periods.ts';
import type { RollupEntry } from '../../metrics/rollup-types.ts';
import { type Attribute, type Entity, instant, property } from './entity.ts';
import { entityUrn, KPI_TYPE, KPI_UNIT_CODES } from './mapping.ts';

/**
 * KeyPerformanceIndicator entities: for each U4SSC KPI, its month-to-date value (what /api/kpis shows as
 * current) and its value in the last closed month (the newest version of that roll-up). A KPI not reported
 * for a period ("NR") keeps its entity without `kpiValue`: the model has no null.
 * Id: `urn:ngsi-ld:KeyPerformanceIndicator:<compact code>:<period label>`, e.g. `…:EN-EN-AQ-1C:2026-04-mtd`.
 */
export async function kpiEntities(kpis: KpiService, cityName: string, now: number): Promise<Entity[]> {
  const { calendar, kpiStore } = kpis.deps;
  const dateOf = (ms: number) => calendar.local(ms).toISODate()!;
  const out: Entity[] = [];
  const base = (code: string, label: string) => {
    const def = kpis.requireKpi(code);
    const attributes: Record<string, Attribute> = {
      name: property(def.name),
      alternateName: property(def.code),
      description: property(`U4SSC KPI ${def.code}: ${def.name} (${def.unit})`),
      category: property(['quantitative']),
      organization: property(cityName),
      process: property(`${def.dimension} / ${def.subDimension} / ${def.category}`),
      calculatedBy: property(cityName),
      dataProvider: property('citymetrics'),
    };
    return {
      def,
      entity: {
        id: entityUrn(KPI_TYPE, `${compactCode(def.code)}:${label}`),
        type: KPI_TYPE,
        district: null,
        attributes,
      },
    };
  };
  const kpiValueOf = (
    multi: boolean,
    value: number | null,
    points: Array<{ name: string | null; value: number | null }>,
  ) => {
    if (!multi) return value;
    const reported = points.filter((p) => p.name !== null && p.value !== null);
    return reported.length === 0 ? null : Object.fromEntries(reported.map((p) => [p.name, p.value]));
  };

  for (const item of await kpis.list()) {
    const mtd = item.current['month-to-date'];
    if (mtd === null) continue;
    const period = periodFromLabel(calendar, mtd.period, now);
    if (period === null) continue;
    const { def, entity } = base(item.code, mtd.period);
    const computedAt = Date.parse(mtd.computedAt);
    const value = kpiValueOf(def.dataPoints.length > 1, mtd.value, mtd.dataPoints);
    setValue(entity.attributes, value, mtd.unit, computedAt);
    entity.attributes.calculationPeriod = property({
      from: dateOf(period.start),
      to: dateOf(lastInstant(period)),
    });
    entity.attributes.calculationMethod = property(method(mtd.source));
    entity.attributes.updatedAt = instant(computedAt);
    out.push(entity);
  }

  const closedMonth = kpiStore
    .closedPeriods()
    .filter((l) => /^\d{4}-\d{2}$/.test(l))
    .at(-1);
  const rollup = closedMonth === undefined ? null : kpiStore.latestRollup(closedMonth);
  if (rollup !== null) {
    const period = periodFromLabel(calendar, rollup.period, now)!;
    const byCode = new Map<string, RollupEntry[]>();
    for (const e of rollup.entries) byCode.set(e.code, [...(byCode.get(e.code) ?? []), e]);
    for (const [code, entries] of byCode) {
      const { def, entity } = base(code, rollup.period);
      const first = entries[0]!;
      const value = kpiValueOf(
        def.dataPoints.length > 1,
        first.value,
        entries.map((e) => ({ name: e.dataPoint, value: e.value })),
      );
      setValue(entity.attributes, value, first.unit, rollup.closedAt);
      entity.attributes.calculationPeriod = property({
        from: dateOf(period.start),
        to: dateOf(lastInstant(period)),
      });
      entity.attributes.calculationFrequency = property('monthly');
      if (first.source !== null) entity.attributes.calculationMethod = property(method(first.source));
      entity.attributes.updatedAt = instant(rollup.closedAt);
      out.push(entity);
    }
  }
  return out;
}

function setValue(attributes: Record<string, Attribute>, value: unknown, unit: string, at: number): void {
  if (value === null) return;
  const unitCode = KPI_UNIT_CODES[unit];
  attributes.kpiValue = property(value, { observedAt: at, ...(unitCode ? { unitCode } : {}) });
}

/** `calculationPeriod.to` is the last day inside the period: periods end exclusively. */
const lastInstant = (period: { start: number; end: number }) => Math.max(period.start, period.end - 1);

/** The model's calculation methods: values from sensors and the registry are computed here. */
function method(source: KpiValue['source']): 'automatic' | 'manual' | 'semiautomatic' {
  if (source === 'sensor' || source === 'registry') return 'automatic';
  if (source === 'mixed') return 'semiautomatic';
  return 'manual';
}
