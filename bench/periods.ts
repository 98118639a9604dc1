import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * SCENARIO SLOT — periods: time to close a month and to recompute every KPI for a city of 1 000 devices
 * with a year of roll-ups (generated fast, straight into the series store). It needs the KPI engine
 * (metrics/kpi-engine.ts), which does not exist yet: until it does, this prints 'not available yet'.
 * When it lands: generate the roll-ups with SeriesStore writes of day/hour buckets, then time
 * `closeMonth` and a full recompute, and report both with the device and KPI counts.
 */

export interface PeriodsResult {
  status:
    | 'not available yet'
    | 'not available yet (metrics/kpi-engine.ts exists; this scenario is not wired to it yet)';
  closeMonthSec: number | null;
  recomputeAllSec: number | null;
}

export async function runPeriods(log: (line: string) => void): Promise<PeriodsResult> {
  const engine = fileURLToPath(new URL('../metrics/kpi-engine.ts', import.meta.url));
  const status = existsSync(engine)
    ? 'not available yet (metrics/kpi-engine.ts exists; this scenario is not wired to it yet)'
    : 'not available yet';
  log(`  periods (close a month, recompute all KPIs, 1 000 devices × 1 year): ${status}`);
  return { status, closeMonthSec: null, recomputeAllSec: null };
}
