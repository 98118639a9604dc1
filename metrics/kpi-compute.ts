import type { Logger } from '../core/logger.ts';
import type { KpiDefinition } from './catalogue/catalogue.ts';
import { valueCompleteness } from './completeness.ts';
import { worstQuality } from './data-quality.ts';
import { formulaFor } from './formulas/index.ts';
import { kpiVerdict, type StatusRule } from './kpi-status.ts';
import type { DataPointValue, FormulaContext, KpiValue, Lineage, Period } from './kpi-types.ts';
import type { ManualInputs, ResolvedManual } from './manual-inputs.ts';

const emptyLineage = (formula: string, notes: string[]): Lineage => ({
  formulaVersion: 'manual',
  formula,
  devices: [],
  series: [],
  readings: 0,
  timeRange: null,
  manualInputs: [],
  notes,
});

const describeEntry = (r: ResolvedManual['records'][number]): string =>
  `entered by ${r.enteredBy} at ${new Date(r.enteredAt).toISOString()} (source: ${r.source}${r.evidence ? `; evidence: ${r.evidence}` : ''})`;

/**
 * One KPI over one period: the formula's value for computed KPIs, with an explicit override on top when an
 * analyst entered one; the analyst's entries for manual KPIs. A formula that fails gives "NR" with the
 * reason in the lineage rather than failing the whole recompute. Every value leaves with its status from
 * the one rule (kpi-status.ts); `frozen` says the period's roll-up is being (or has been) frozen.
 */
export async function computeKpi(
  deps: { manual: ManualInputs; status: StatusRule; logger: Logger },
  ctx: FormulaContext,
  def: KpiDefinition,
  period: Period,
  computedAt: number,
  frozen = false,
): Promise<KpiValue> {
  const { inputsProvisional, ...v } = await computeValue(deps, ctx, def, period, computedAt);
  const verdict = (completeness: number | null, hasValue: boolean) =>
    kpiVerdict(
      { period, completeness, hasValue, inputsProvisional: inputsProvisional === true },
      deps.status,
      computedAt,
      frozen,
    );
  const { status, reason } = verdict(v.completeness, v.value !== null);
  // Each data point of a multi-point KPI is a row of its own in roll-ups and exports: the headline's
  // verdict would call a pollutant no station measured "final" beside a complete PM2.5. Data points
  // measured apart carry their own completeness; the others share the value's.
  const dataPoints =
    def.dataPoints.length > 1
      ? v.dataPoints.map((d) => {
          const own = verdict(
            d.completeness === undefined ? v.completeness : d.completeness,
            d.value !== null,
          );
          return { ...d, status: own.status, statusReason: own.reason };
        })
      : v.dataPoints;
  return { ...v, dataPoints, status, statusReason: reason, provisional: status !== 'final' };
}

type Unstated = Omit<KpiValue, 'status' | 'provisional'> & { inputsProvisional?: boolean };

async function computeValue(
  deps: { manual: ManualInputs; logger: Logger },
  ctx: FormulaContext,
  def: KpiDefinition,
  period: Period,
  computedAt: number,
): Promise<Unstated> {
  const formula = formulaFor(def.code);
  const manual = deps.manual.resolve('kpi', def.code, period);
  if (formula === undefined) return manualValue(def, period, manual, computedAt);
  let computed: Unstated;
  try {
    const { provisional: _formulaView, ...r } = await formula.compute(ctx, period);
    computed = {
      ...r,
      completeness: valueCompleteness(r.lineage.series, r.completeness, def.obtained, r.value !== null),
      computedAt,
    };
  } catch (err) {
    deps.logger.error({ err, code: def.code, period: period.label }, 'KPI formula failed');
    computed = {
      code: def.code,
      period,
      value: null,
      unit: def.unit,
      dataPoints: def.dataPoints.map((name) => ({ name, value: null, unit: def.unit })),
      dataQuality: 'unknown',
      completeness: 0,
      source: def.obtained === 'manual' ? 'manual' : def.obtained,
      lineage: emptyLineage(formula.description, [`formula failed: ${(err as Error).message}`]),
      computedAt,
    };
  }
  const overrides = manual?.records.filter((r) => r.override) ?? [];
  if (overrides.length === 0) return computed;
  return overrideValue(def, computed, { ...manual!, records: overrides });
}

/** The analyst's value in place of the computed one, both kept in the lineage. */
function overrideValue(def: KpiDefinition, computed: Unstated, manual: ResolvedManual): Unstated {
  const multi = def.dataPoints.length > 1;
  const dataPoints: DataPointValue[] = computed.dataPoints.map((dp) => {
    const r = manual.records.find((m) => (multi ? m.dataPoint === dp.name : true));
    return r === undefined ? dp : { name: dp.name, value: r.value, unit: r.unit };
  });
  const notes = [...(computed.lineage.notes ?? [])];
  for (const r of manual.records) {
    const dpName = r.dataPoint ?? def.dataPoints[0]!;
    const sensor = computed.dataPoints.find((d) => d.name === dpName)?.value ?? null;
    notes.push(
      `override: computed ${sensor === null ? 'NR' : sensor} ${r.unit} replaced by manual ${r.value} ${r.unit}${multi ? ` (${dpName})` : ''}, ${describeEntry(r)}${manual.carried ? `, entered for ${manual.label}` : ''}`,
    );
  }
  return {
    ...computed,
    value: multi ? (dataPoints[0]?.value ?? null) : manual.records[0]!.value,
    dataPoints,
    dataQuality: worstQuality(manual.records.map((r) => r.dataQuality)),
    completeness: 1,
    inputsProvisional: manual.carried,
    source: 'override',
    lineage: {
      ...computed.lineage,
      manualInputs: [
        ...computed.lineage.manualInputs,
        ...manual.records.map((r) => ({
          name: `override${r.dataPoint ? `: ${r.dataPoint}` : ''}`,
          value: r.value,
          unit: r.unit,
          source: r.source,
        })),
      ],
      notes,
    },
  };
}

/** A manual KPI: the entries for the period, "NR" when none holds. */
function manualValue(
  def: KpiDefinition,
  period: Period,
  manual: ResolvedManual | null,
  computedAt: number,
): Unstated {
  const multi = def.dataPoints.length > 1;
  const records = manual?.records ?? [];
  const dataPoints: DataPointValue[] = def.dataPoints.map((name) => {
    const r = records.find((m) => (multi ? m.dataPoint === name : true));
    return { name, value: r?.value ?? null, unit: r?.unit ?? def.unit };
  });
  const value = dataPoints[0]?.value ?? null;
  const notes =
    records.length === 0
      ? ['not entered for this period: not reported (NR)']
      : records.map(
          (r) =>
            `${r.dataPoint ?? def.dataPoints[0]}: ${r.value} ${r.unit} ${describeEntry(r)}${manual!.carried ? `, entered for ${manual!.label} and carried forward` : ''}`,
        );
  return {
    code: def.code,
    period,
    value,
    unit: def.unit,
    dataPoints,
    dataQuality: records.length === 0 ? 'unknown' : worstQuality(records.map((r) => r.dataQuality)),
    completeness:
      records.length === 0 ? 0 : dataPoints.filter((d) => d.value !== null).length / dataPoints.length,
    inputsProvisional: manual?.carried ?? false,
    source: 'manual',
    lineage: {
      ...emptyLineage('entered by an analyst', notes),
      manualInputs: records.map((r) => ({
        name: r.dataPoint ?? def.dataPoints[0]!,
        value: r.value,
        unit: r.unit,
        source: r.source,
      })),
    },
    computedAt,
  };
}
