import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { emergencyResponseTime } from './emergency-response-time.ts';
import { type FormulaFixture, formulaFixture, readingsIn } from './formula-fixture.ts';

const at = (iso: string): number => Date.parse(iso);

describe('SC: SH: SA: 5A Emergency Service Response Time', () => {
  let fx: FormulaFixture;
  beforeEach(async () => {
    fx = formulaFixture();
    fx.addDevice('cad-1', 'emergency-dispatch', { service: 'ambulance' });
    fx.addDevice('cad-2', 'emergency-dispatch', { service: 'fire' });
    const owed = readingsIn(fx.march, 300);
    await fx.writeSeries('cad-1', 'calls', fx.march.start, owed, 300, () => 1);
    await fx.writeSeries('cad-2', 'calls', fx.march.start, owed, 300, () => 0);
  });
  afterEach(() => fx.close());

  it('mean minutes from call to arrival of the incidents called in the period, unmatched ones counted', async () => {
    const call = (dev: string, iso: string, incident: string) =>
      fx.addEvent(dev, 'incident_call', at(iso), { incident });
    const arrive = (dev: string, iso: string, incident: string) =>
      fx.addEvent(dev, 'incident_arrival', at(iso), { incident });
    call('cad-1', '2026-03-02T10:00:00Z', 'I-1');
    arrive('cad-1', '2026-03-02T10:07:30Z', 'I-1'); // 7.5 min
    call('cad-1', '2026-03-05T22:00:00Z', 'I-2');
    arrive('cad-2', '2026-03-05T22:12:00Z', 'I-2'); // 12 min, closed by the other centre
    call('cad-1', '2026-03-10T08:00:00Z', 'I-3');
    call('cad-1', '2026-03-10T08:01:00Z', 'I-3'); // repeat: the first call counts
    arrive('cad-1', '2026-03-10T08:09:00Z', 'I-3'); // 9 min
    arrive('cad-1', '2026-03-10T08:15:00Z', 'I-3'); // a second vehicle: the first arrival counts
    call('cad-2', '2026-03-31T23:50:00Z', 'I-4');
    arrive('cad-2', '2026-04-01T00:20:00Z', 'I-4'); // 30 min, arrival after the period end
    call('cad-1', '2026-02-28T23:55:00Z', 'I-5');
    arrive('cad-1', '2026-03-01T00:06:00Z', 'I-5'); // February's incident: not this period's, not unmatched
    call('cad-1', '2026-03-12T03:00:00Z', 'I-6'); // no arrival: unmatched
    call('cad-2', '2026-03-15T12:00:00Z', 'I-7');
    fx.addEvent('cad-2', 'incident_cancel', at('2026-03-15T12:03:00Z'), { incident: 'I-7' }); // stood down
    arrive('cad-2', '2026-03-20T09:30:00Z', 'I-8'); // arrival with no call: unmatched
    fx.addEvent('cad-1', 'incident_call', at('2026-03-21T09:00:00Z'), {}); // no id
    call('cad-1', '2026-04-01T01:00:00Z', 'I-9'); // April's

    const v = await emergencyResponseTime.compute(fx.ctx, fx.march);
    expect(v.unit).toBe('minutes');
    expect(v.value).toBeCloseTo((7.5 + 12 + 9 + 30) / 4, 12);
    expect(v.lineage.registryCounts).toEqual({
      dispatchFeeds: 2,
      incidentsCalled: 6, // I-1, I-2, I-3, I-4, I-6, I-7
      incidentsMatched: 4,
      incidentsCancelled: 1,
      incidentsUnmatched: 2, // I-6, I-8
      medianMinutes: (9 + 12) / 2,
    });
    expect(v.completeness).toBe(1);
    expect(v.dataQuality).toBe('estimation-with-assumptions');
    const notes = v.lineage.notes ?? [];
    expect(notes).toContain('1 incident event(s) without data.incident: not paired');
    expect(notes).toContain('1 incident(s) cancelled before arrival: no response time');
    expect(
      notes.some((n) =>
        n.startsWith(
          '2 unmatched incident(s): 1 call(s) without arrival by 2026-04-02T00:00:00.000Z, 1 arrival(s) without a call',
        ),
      ),
    ).toBe(true);
  });

  it('every incident matched: an accurate measurement; numeric ids pair too', async () => {
    fx.addEvent('cad-1', 'incident_call', at('2026-03-03T10:00:00Z'), { incident: 17 });
    fx.addEvent('cad-1', 'incident_arrival', at('2026-03-03T10:05:00Z'), { incident: 17 });
    fx.addEvent('cad-2', 'incident_call', at('2026-03-04T10:00:00Z'), { incident: 'F-2' });
    fx.addEvent('cad-2', 'incident_arrival', at('2026-03-04T10:10:00Z'), { incident: 'F-2' });
    const v = await emergencyResponseTime.compute(fx.ctx, fx.march);
    expect(v.value).toBeCloseTo((5 + 10) / 2, 12);
    expect(v.lineage.registryCounts?.medianMinutes).toBeCloseTo(7.5, 12);
    expect(v.lineage.registryCounts?.incidentsUnmatched).toBe(0);
    expect(v.dataQuality).toBe('accurate-measurement');
    expect(v.provisional).toBe(false);
  });

  it('an arrival stamped before its call is not paired, and counts as unmatched', async () => {
    fx.addEvent('cad-1', 'incident_arrival', at('2026-03-03T09:58:00Z'), { incident: 'X' });
    fx.addEvent('cad-1', 'incident_call', at('2026-03-03T10:00:00Z'), { incident: 'X' });
    fx.addEvent('cad-1', 'incident_call', at('2026-03-04T10:00:00Z'), { incident: 'Y' });
    fx.addEvent('cad-1', 'incident_arrival', at('2026-03-04T10:04:00Z'), { incident: 'Y' });
    const v = await emergencyResponseTime.compute(fx.ctx, fx.march);
    expect(v.value).toBeCloseTo(4, 12);
    expect(v.lineage.registryCounts?.incidentsUnmatched).toBe(1);
    expect(v.lineage.notes).toContain('1 incident(s) with an arrival stamped before the call: not paired');
    expect(v.dataQuality).toBe('estimation-with-assumptions');
  });
});
