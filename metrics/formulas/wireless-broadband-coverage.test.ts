import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FormulaFixture, formulaFixture, readingsIn } from './formula-fixture.ts';
import { wirelessBroadbandCoverage } from './wireless-broadband-coverage.ts';

const G3 = 'Wireless Broadband Coverage: 3G';
const G4 = 'Wireless Broadband Coverage: 4G';

describe('EC: ICT: ICT: 4C Wireless Broadband Coverage', () => {
  let fx: FormulaFixture;
  beforeEach(() => {
    fx = formulaFixture();
  });
  afterEach(() => fx.close());

  const point = (v: { dataPoints: Array<{ name: string; value: number | null }> }, name: string) =>
    v.dataPoints.find((p) => p.name === name)?.value;

  it('per layer, live probe locations whose mean signal reaches the threshold', async () => {
    const owed = readingsIn(fx.march, 900); // 31 × 96 = 2976
    const { start } = fx.march;
    for (const id of ['bb-1', 'bb-2', 'bb-3', 'bb-4', 'bb-5']) fx.addDevice(id, 'broadband-probe');
    for (const id of ['bb-1', 'bb-2', 'bb-3'])
      await fx.writeSeries(id, 'samples', start, owed, 900, () => 90);
    await fx.writeSeries('bb-4', 'samples', start, owed / 2, 900, () => 90);
    // bb-1: 4G −95, 3G −90: both
    await fx.writeSeries('bb-1', 'rsrp', start, owed, 900, () => -95);
    await fx.writeSeries('bb-1', 'rscp', start, owed, 900, () => -90);
    // bb-2: 4G mean (−105 − 117) / 2 = −111 < −110: no; 3G −100 = the threshold: yes
    await fx.writeSeries('bb-2', 'rsrp', start, owed, 900, (i) => (i % 2 === 0 ? -105 : -117));
    await fx.writeSeries('bb-2', 'rscp', start, owed, 900, () => -100);
    // bb-3: 4G −110: yes; no 3G reading at all: no signal, not covered
    await fx.writeSeries('bb-3', 'rsrp', start, owed, 900, () => -110);
    // bb-4: live half the month; 4G −80: yes; 3G at the floor −140: no
    await fx.writeSeries('bb-4', 'rsrp', start, owed / 2, 900, () => -80);
    await fx.writeSeries('bb-4', 'rscp', start, owed / 2, 900, () => -140);
    // bb-5: silent: not a live location
    const v = await wirelessBroadbandCoverage.compute(fx.ctx, fx.march);
    expect(v.unit).toBe('%');
    expect(point(v, G4)).toBeCloseTo((3 / 4) * 100, 12); // bb-1, bb-3, bb-4
    expect(point(v, G3)).toBeCloseTo((2 / 4) * 100, 12); // bb-1, bb-2
    expect(v.value).toBeCloseTo(75, 12);
    expect(v.completeness).toBeCloseTo((3 * 2976 + 1488) / (5 * 2976), 12);
    expect(v.provisional).toBe(true);
    expect(v.dataQuality).toBe('estimation-with-assumptions');
    expect(v.lineage.registryCounts).toEqual({
      probes: 5,
      liveProbes: 4,
      'probes covered by rscp': 2,
      'probes covered by rsrp': 3,
    });
    expect(v.lineage.notes).toContain(`${G4}: a location is covered at a period-mean rsrp ≥ -110 dBm`);
  });

  it('takes its thresholds from the settings', async () => {
    const owed = readingsIn(fx.march, 900);
    for (const [id, dbm] of [
      ['bb-1', -115],
      ['bb-2', -105],
    ] as const) {
      fx.addDevice(id, 'broadband-probe');
      await fx.writeSeries(id, 'samples', fx.march.start, owed, 900, () => 90);
      await fx.writeSeries(id, 'rsrp', fx.march.start, owed, 900, () => dbm);
    }
    expect((await wirelessBroadbandCoverage.compute(fx.ctx, fx.march)).value).toBeCloseTo(50, 12);
    fx.settings.broadband.rsrpMinDbm = -120;
    const v = await wirelessBroadbandCoverage.compute(fx.ctx, fx.march);
    expect(v.value).toBeCloseTo(100, 12);
    expect(v.completeness).toBe(1);
    expect(point(v, G3)).toBe(0);
  });
});
