import { describe, expect, it } from 'vitest';
import { IncidentProcess } from './incidents.ts';
import { mulberry32 } from './prng.ts';

describe('incident process', () => {
  it('opens an incident per call and closes each 1–5 readings later, by arrival or cancellation', () => {
    const p = new IncidentProcess(mulberry32(3), 'cad');
    const calledAt = new Map<string, number>();
    const closedAfter = new Map<string, number>();
    for (let r = 0; r < 400; r++)
      for (const e of p.step(r < 300 ? r % 3 : 0)) {
        if (e.type === 'incident_call') {
          expect(calledAt.has(e.incident)).toBe(false);
          calledAt.set(e.incident, r);
        } else {
          expect(closedAfter.has(e.incident)).toBe(false);
          closedAfter.set(e.incident, r - calledAt.get(e.incident)!);
        }
      }
    // 300 readings of 0, 1, 2 calls: 300 calls, every one closed by the 100 quiet readings after
    expect(calledAt.size).toBe(300);
    expect(closedAfter.size).toBe(300);
    for (const readings of closedAfter.values()) {
      expect(readings).toBeGreaterThanOrEqual(1);
      expect(readings).toBeLessThanOrEqual(5);
    }
  });
});
