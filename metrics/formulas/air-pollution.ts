import type { DeviceRecord } from '../../core/ports/device-directory.ts';
import type { DataPointValue, KpiFormula } from '../kpi-types.ts';
import { FormulaRun } from './formula-run.ts';

/**
 * EN: EN: AQ: 1C Air Pollution. U4SSC: "mass of pollutant / volume of air sampled, reported as the annual
 * mean concentration for each pollutant", µg/m³, with five data points: PM2.5, PM10, NO2, SO2, O3.
 *
 * Inputs: air-quality-station readings pm25, pm10, no2, so2, o3 (µg/m³; ppb is converted at ingest at the EU
 * reference condition, 20 °C and 101.325 kPa, devices/kinds.ts).
 *
 * The concentration of the city is that of its stations, each counted once: for each pollutant, the mean
 * over the period of every station that measures it, then the mean of those station means. A mean of all
 * readings would weigh a station by how much it sent, so a station that was down half the year, or reports
 * twice as often, would pull the city value towards or away from its own site; a station is a sampling
 * point, and the annual mean per station is what air-quality assessment reports (Directive 2008/50/EC).
 * A station with no reading of a pollutant in the period has no mean and is left out of that mean (it
 * still owes readings: completeness).
 *
 * What a station measures: its `pollutants` attribute (comma-separated metric names, e.g. `pm25,pm10,no2`),
 * and when absent every pollutant of the kind. It is a device attribute, not a kind, because stations of
 * one network carry different sensor sets and one kind keeps their readings comparable; readings of a
 * pollutant a station does not declare are not used. Unknown names are ignored with a lineage note.
 *
 * Completeness is per pollutant (each data point carries its own): a station owes readings only of what it
 * measures, so a station without an SO2 sensor lowers nothing. `value` carries the PM2.5 data point (the
 * KPI has no single overall figure, and PM2.5 carries the largest health burden, WHO 2021), so the value's
 * completeness, status and data-quality class are those of PM2.5; a data point below the capture threshold
 * is named in the lineage. The annual value is this over a year; month, month to date and year to date give
 * the running figure.
 */
const POLLUTANTS = [
  { name: 'PM2.5', metric: 'pm25' },
  { name: 'PM10', metric: 'pm10' },
  { name: 'NO2', metric: 'no2' },
  { name: 'SO2', metric: 'so2' },
  { name: 'O3', metric: 'o3' },
] as const;
const METRICS: ReadonlySet<string> = new Set(POLLUTANTS.map((p) => p.metric));
const HEADLINE = POLLUTANTS[0].metric;

/** The pollutant metrics a station declares it measures (all of them without the attribute). */
function measuredBy(run: FormulaRun, station: DeviceRecord): ReadonlySet<string> {
  const declared = station.attributes.pollutants;
  if (typeof declared !== 'string') return METRICS;
  const names = declared
    .split(',')
    .map((n) => n.trim().toLowerCase())
    .filter((n) => n !== '');
  const unknown = names.filter((n) => !METRICS.has(n));
  if (unknown.length > 0)
    run.note(
      `station ${station.id}: pollutants ${unknown.join(', ')} unknown (one of ${[...METRICS].join(', ')}), ignored`,
    );
  return new Set(names.filter((n) => METRICS.has(n)));
}

export const airPollution: KpiFormula = {
  code: 'EN: EN: AQ: 1C',
  version: '2',
  description:
    'per pollutant, the mean of station means over the period (each station once, only stations measuring it), µg/m³; value = PM2.5, its completeness that of PM2.5',
  inputKinds: ['air-quality-station'],
  async compute(ctx, period) {
    const run = new FormulaRun(ctx, period, airPollution);
    const stations = run.devices('air-quality-station');
    run.registry('stations', stations.length);
    const measures = new Map(stations.map((s) => [s.id, measuredBy(run, s)]));
    const threshold = ctx.settings.captureThreshold;
    const dataPoints: DataPointValue[] = [];
    for (const p of POLLUTANTS) {
      const means: number[] = [];
      const measuring = stations.filter((s) => measures.get(s.id)!.has(p.metric));
      run.registry(`stations measuring ${p.metric}`, measuring.length);
      for (const s of measuring) {
        const b = await run.deviceAggregate(s, p.metric);
        if (b !== null && b.count > 0) means.push(b.sum / b.count);
      }
      // The city series of these stations, for lineage: its expected readings sum theirs.
      run.cityAggregate(p.metric);
      const completeness = run.metricCompleteness(p.metric);
      if (completeness !== null && completeness < threshold)
        run.note(`${p.name}: capture ${(completeness * 100).toFixed(1)} % below ${threshold * 100} %`);
      dataPoints.push({
        name: p.name,
        value: means.length === 0 ? null : means.reduce((a, b) => a + b, 0) / means.length,
        unit: run.unit,
        completeness,
      });
    }
    if (dataPoints.every((d) => d.value === null)) run.note('no air-quality reading in the period');
    return run.finish(dataPoints[0]!.value, dataPoints, { completenessOf: HEADLINE });
  },
};
