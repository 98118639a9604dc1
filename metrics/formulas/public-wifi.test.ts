import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FormulaFixture, formulaFixture, readingsIn } from './formula-fixture.ts';
import { publicWifi } from './public-wifi.ts';

describe('EC: ICT: ICT: 5C Availability of WIFI in Public Areas', () => {
  let fx: FormulaFixture;
  beforeEach(() => {
    fx = formulaFixture();
  });
  afterEach(() => fx.close());

  it('counts the hotspots that reported in the period, zero clients included', async () => {
    const owed = readingsIn(fx.march, 300); // 31 × 288 = 8928
    fx.addDevice('ap-1', 'wifi-hotspot', { venue: 'square' });
    fx.addDevice('ap-2', 'wifi-hotspot', { venue: 'park' });
    fx.addDevice('ap-3', 'wifi-hotspot', { venue: 'library' });
    fx.addDevice('ap-4', 'wifi-hotspot', {}, { status: 'disabled' });
    await fx.writeSeries('ap-1', 'clients', fx.march.start, owed, 300, (i) => i % 40);
    await fx.writeSeries('ap-2', 'clients', fx.march.start, 1, 300, () => 0); // one reading, nobody on it
    // ap-3 silent all month; ap-4 disabled and reporting: neither counts
    await fx.writeSeries('ap-4', 'clients', fx.march.start, owed, 300, () => 9);
    const v = await publicWifi.compute(fx.ctx, fx.march);
    expect(v.unit).toBe('number of public Wi-Fi hotspots');
    expect(v.value).toBe(2);
    expect(v.completeness).toBeCloseTo((8928 + 1) / (3 * 8928), 12);
    expect(v.provisional).toBe(true);
    expect(v.lineage.registryCounts).toEqual({ registeredHotspots: 3, reportingHotspots: 2 });
    expect(v.lineage.notes).toContain('1 registered hotspot(s) sent no reading in the period: not counted');
    expect(v.lineage.devices.sort()).toEqual(['ap-1', 'ap-2', 'ap-3']);
  });

  it('a month every hotspot reported fully is a final count', async () => {
    const owed = readingsIn(fx.march, 300);
    for (const id of ['ap-1', 'ap-2']) {
      fx.addDevice(id, 'wifi-hotspot');
      await fx.writeSeries(id, 'clients', fx.march.start, owed, 300, () => 3);
    }
    const v = await publicWifi.compute(fx.ctx, fx.march);
    expect(v.value).toBe(2);
    expect(v.completeness).toBe(1);
    expect(v.provisional).toBe(false);
    expect(v.dataQuality).toBe('accurate-measurement');
  });
});
