import { describe, expect, it } from 'vitest';
import { ruleConditionSchema } from '../alert-types.ts';
import { judgeKpiThreshold, normKpiCode } from './kpi-threshold.ts';

const rule = (over: Record<string, unknown>) => {
  const c = ruleConditionSchema.parse({
    kind: 'kpi-threshold',
    code: 'EN: EN: AQ: 1C',
    op: '>',
    value: 25,
    ...over,
  });
  if (c.kind !== 'kpi-threshold') throw new Error('not a KPI threshold');
  return c;
};

describe('KPI threshold', () => {
  it('holds past the threshold, clears only past the default margin (5 % of 25 = 1.25), between in between', () => {
    const c = rule({});
    expect(judgeKpiThreshold(c, 25.01)).toBe('holds');
    expect(judgeKpiThreshold(c, 25)).toBe('between');
    expect(judgeKpiThreshold(c, 23.76)).toBe('between');
    expect(judgeKpiThreshold(c, 23.75)).toBe('clears');
  });

  it('a "<" rule with its own margin is the mirror image', () => {
    const c = rule({ op: '<', value: 90, clearMargin: 2 });
    expect(judgeKpiThreshold(c, 89.9)).toBe('holds');
    expect(judgeKpiThreshold(c, 91.9)).toBe('between');
    expect(judgeKpiThreshold(c, 92)).toBe('clears');
  });

  it('a KPI not reported is nothing to compare', () => {
    const c = rule({});
    for (const v of [null, undefined, 'NR', Number.NaN, Number.POSITIVE_INFINITY])
      expect(judgeKpiThreshold(c, v)).toBe('no-value');
  });

  it('names a KPI the same in its U4SSC and compact spellings', () => {
    expect(normKpiCode('EN: EN: AQ: 1C')).toBe(normKpiCode('en-en-aq-1c'));
    expect(normKpiCode('EN: EN: AQ: 1C')).not.toBe(normKpiCode('EN: EN: AQ: 2C'));
  });
});
