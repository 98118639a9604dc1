import { inClearZone, type KpiThreshold } from '../alert-types.ts';

/**
 * A KPI threshold against a value the KPI engine announced: `holds` (open, or stay open), `clears`
 * (back past the threshold by the clearing margin), `between` (between the threshold and its margin:
 * an open alert stays open, none opens) or `no-value` (the KPI is not reported: nothing to compare).
 */
export type KpiThresholdVerdict = 'holds' | 'clears' | 'between' | 'no-value';

export function judgeKpiThreshold(c: KpiThreshold, value: unknown): KpiThresholdVerdict {
  if (typeof value !== 'number' || !Number.isFinite(value)) return 'no-value';
  if (c.op === '>' ? value > c.value : value < c.value) return 'holds';
  return inClearZone(c, value) ? 'clears' : 'between';
}

/** 'EN: EN: AQ: 1C' and 'EN-EN-AQ-1C' name the same KPI. */
export const normKpiCode = (code: string): string =>
  code
    .split(/[:-]/)
    .map((p) => p.trim().toUpperCase())
    .join('-');
