import type { DeviceRecord } from '../../core/ports/device-directory.ts';
import type { DataPointValue, KpiFormula } from '../kpi-types.ts';
import { FormulaRun } from './formula-run.ts';

/**
 * EN: EN: WA: 1C Solid Waste Treatment. U4SSC: tonnage handled by each disposal method ÷ total solid waste
 * × 100, one data point per method (landfill, burnt in the open, incinerated, open dump, recycled, other),
 * the methods summing to 100 %. This follows the catalogue's composition definition as written: the shares
 * are of the tonnage weighed, so they sum to 100 % by construction, which is what the verifier checks
 * (metrics/exports/consistency.ts, solid-waste-treatment-sum).
 *
 * Inputs: `tonnage` (t per interval) of weighbridge devices, one per disposal route, each with its
 * `disposalMethod` attribute (registry). Total solid waste is the Σ over every weighbridge with a known
 * method: waste that crosses no weighbridge (collected and dumped off the record) is not measured, and the
 * shares are of the waste the city weighs. A weighbridge whose method is not one of the six is left out
 * (noted): guessing its route would move a share. Composting and anaerobic digestion are recovery of
 * material and count as recycled; energy recovery from waste is incineration.
 *
 * `value` carries the Recycled data point: the KPI has no single overall figure, and a higher recycled share
 * is the direction U4SSC asks for. Every data point rests on the same total, so all share one completeness.
 * Shares do not depend on the period's length: nothing is annualised.
 */
const METHODS = [
  { name: 'Landfill', method: 'landfill' },
  { name: 'Burnt (open)', method: 'open-burning' },
  { name: 'Incinerated', method: 'incineration' },
  { name: 'Open dump', method: 'open-dump' },
  { name: 'Recycled', method: 'recycling' },
  { name: 'Other', method: 'other' },
] as const;
const HEADLINE = 'Recycled';

const methodOf = (d: DeviceRecord): string | undefined => {
  const v = d.attributes.disposalMethod;
  return typeof v === 'string' ? v.trim().toLowerCase() : undefined;
};

export const solidWasteTreatment: KpiFormula = {
  code: 'EN: EN: WA: 1C',
  version: '1',
  description:
    'per disposal method, Σ weighbridge tonnes of that method ÷ Σ weighbridge tonnes of all methods × 100; value = Recycled',
  inputKinds: ['weighbridge'],
  async compute(ctx, period) {
    const run = new FormulaRun(ctx, period, solidWasteTreatment);
    const bridges = run.devices('weighbridge');
    run.registry('weighbridges', bridges.length);
    const known: ReadonlySet<string> = new Set(METHODS.map((m) => m.method));
    for (const d of bridges) {
      const m = methodOf(d);
      if (m === undefined || !known.has(m))
        run.note(
          `weighbridge ${d.id}: disposalMethod ${m ?? '(none)'} is not one of ${[...known].join(', ')}: left out`,
        );
    }
    const tonnes = new Map<string, number | null>();
    let total: number | null = null;
    for (const m of METHODS) {
      const of = bridges.filter((d) => methodOf(d) === m.method);
      const t = (await run.sumOf(of, 'tonnage')).total;
      tonnes.set(m.method, t);
      if (t !== null) total = (total ?? 0) + t;
    }
    if (total !== null) run.registry('tonnesWeighed', total);
    if (total === 0) run.note('weighbridges reported no waste in the period: shares not defined');
    const share = (method: string): number | null =>
      total === null || !(total > 0) ? null : ((tonnes.get(method) ?? 0) / total) * 100;
    const dataPoints: DataPointValue[] = METHODS.map((m) => ({
      name: m.name,
      value: share(m.method),
      unit: run.unit,
    }));
    return run.finish(dataPoints.find((p) => p.name === HEADLINE)!.value, dataPoints);
  },
};
