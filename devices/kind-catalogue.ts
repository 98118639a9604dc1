import { z } from 'zod';
import { type DeviceKind, deviceKindSchema, type MetricSpec } from '../core/device-kind.ts';
import { deviceKinds } from './kinds.ts';

/** The kinds, validated once at load: a bad kind file stops the platform with every problem listed. */
export class KindCatalogue {
  private readonly byId: ReadonlyMap<string, DeviceKind>;
  private readonly metricIndex: ReadonlyMap<string, ReadonlyMap<string, MetricSpec>>;

  constructor(input: unknown = deviceKinds) {
    const parsed = z.array(deviceKindSchema).safeParse(input);
    if (!parsed.success) {
      throw new Error(`device kinds are invalid:\n${z.prettifyError(parsed.error)}`);
    }
    const byId = new Map<string, DeviceKind>();
    for (const kind of parsed.data) {
      if (byId.has(kind.id)) throw new Error(`device kind ${kind.id} is declared twice`);
      const names = new Set<string>();
      for (const m of kind.metrics) {
        if (names.has(m.name)) throw new Error(`device kind ${kind.id} declares metric ${m.name} twice`);
        names.add(m.name);
      }
      byId.set(kind.id, Object.freeze(kind));
    }
    this.byId = byId;
    this.metricIndex = new Map([...byId].map(([id, k]) => [id, new Map(k.metrics.map((m) => [m.name, m]))]));
  }

  get(id: string): DeviceKind | undefined {
    return this.byId.get(id);
  }

  metric(kindId: string, metric: string): MetricSpec | undefined {
    return this.metricIndex.get(kindId)?.get(metric);
  }

  list(): DeviceKind[] {
    return [...this.byId.values()];
  }
}
