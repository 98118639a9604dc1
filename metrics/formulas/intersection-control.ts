import type { KpiFormula } from '../kpi-types.ts';
import { FormulaRun, percentOf } from './formula-run.ts';

/**
 * EC: ICT: T: 3A Intersection Control (U4SSC: signal-controlled intersections with adaptive control or
 * prioritisation / all signal-controlled intersections × 100; %).
 *
 * An intersection is adaptive when its traffic-signal-controller's last `adaptive` reading in the period is
 * 1 (the state it was left in). Intersections are distinct intersectionId attributes (the device id when
 * absent). Inputs: registry and adaptive series; manual input `intersectionsTotal` (all signal-controlled
 * intersections).
 */
export const intersectionControl: KpiFormula = {
  code: 'EC: ICT: T: 3A',
  version: '1',
  description: 'intersections whose controller last reported adaptive = 1 ÷ manual intersectionsTotal × 100',
  inputKinds: ['traffic-signal-controller'],
  async compute(ctx, period) {
    const run = new FormulaRun(ctx, period, intersectionControl);
    const controllers = run.devices('traffic-signal-controller');
    run.registry('controllers', controllers.length);
    const adaptive = new Set<string>();
    for (const d of controllers) {
      const b = await run.deviceAggregate(d, 'adaptive');
      const id = typeof d.attributes.intersectionId === 'string' ? d.attributes.intersectionId : d.id;
      if (b !== null && b.last === 1) adaptive.add(id);
    }
    const n = run.registry('adaptiveIntersections', adaptive.size);
    return run.finish(percentOf(n, run.manual('intersectionsTotal', 'intersections')));
  },
};
