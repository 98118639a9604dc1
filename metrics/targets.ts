import type { Clock } from '../core/clock.ts';
import { CityError } from '../core/errors.ts';
import type { KpiCatalogue, KpiDefinition } from './catalogue/catalogue.ts';
import type { KpiStore } from './kpi-store.ts';
import { defaultTargets, type KpiTarget } from './scoring.ts';

export interface TargetView {
  code: string;
  /** what scoring uses: configured values over the defaults */
  target: KpiTarget | null;
  default: KpiTarget | null;
  configured: boolean;
}

export interface TargetUpdate {
  value?: number;
  dataPoints?: Record<string, number>;
  source: string;
}

/**
 * Targets per KPI (U4SSC benchmarking): the shipped defaults (WHO 2021...) unless the city configured its
 * own. A configured data-point target replaces only that data point's default.
 */
export class KpiTargets {
  constructor(private readonly deps: { kpiStore: KpiStore; catalogue: KpiCatalogue; clock: Clock }) {}

  get(code: string): KpiTarget | undefined {
    const base = defaultTargets[code];
    const own = this.deps.kpiStore.targets().filter((t) => t.code === code);
    if (own.length === 0) return base;
    const single = own.find((t) => t.dataPoint === null);
    const points = own.filter((t) => t.dataPoint !== null);
    const out: KpiTarget = { source: (single ?? points[0])!.source };
    if (single !== undefined) out.value = single.value;
    else if (base?.value !== undefined) out.value = base.value;
    if (points.length > 0 || base?.dataPoints !== undefined) {
      const dp: Record<string, number> = { ...(base?.dataPoints ?? {}) };
      for (const p of points) dp[p.dataPoint!] = p.value;
      out.dataPoints = dp;
    }
    return out;
  }

  /** The target number of one entry (a data point of a multi-point KPI, or the KPI's value). */
  valueFor(code: string, dataPoint: string | null): number | null {
    const t = this.get(code);
    if (t === undefined) return null;
    if (dataPoint !== null && t.dataPoints !== undefined) return t.dataPoints[dataPoint] ?? null;
    return t.value ?? null;
  }

  view(code: string): TargetView {
    const target = this.get(code);
    return {
      code,
      target: target ?? null,
      default: defaultTargets[code] ?? null,
      configured: this.deps.kpiStore.targets().some((t) => t.code === code),
    };
  }

  async set(def: KpiDefinition, input: TargetUpdate, setBy: string): Promise<TargetView> {
    if (input.value === undefined && input.dataPoints === undefined)
      throw new CityError('API_VALIDATION', 'give value or dataPoints', { field: 'value' });
    const setAt = this.deps.clock.now();
    const records = [];
    if (input.value !== undefined) {
      if (!(Number.isFinite(input.value) && input.value > 0))
        throw new CityError('API_VALIDATION', 'a target must be a positive number', { field: 'value' });
      records.push({
        code: def.code,
        dataPoint: null,
        value: input.value,
        source: input.source,
        setBy,
        setAt,
      });
    }
    for (const [name, value] of Object.entries(input.dataPoints ?? {})) {
      if (!def.dataPoints.includes(name))
        throw new CityError('API_VALIDATION', `${def.code} has no data point "${name}"`, {
          field: `dataPoints.${name}`,
          details: { dataPoints: def.dataPoints },
        });
      if (!(Number.isFinite(value) && value > 0))
        throw new CityError('API_VALIDATION', 'a target must be a positive number', {
          field: `dataPoints.${name}`,
        });
      records.push({ code: def.code, dataPoint: name, value, source: input.source, setBy, setAt });
    }
    await this.deps.kpiStore.setTargets(records);
    return this.view(def.code);
  }
}
