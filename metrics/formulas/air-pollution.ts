import type { DataPointValue, KpiFormula } from '../kpi-types.ts';
import { FormulaRun } from './formula-run.ts';

/**
 * EN: EN: AQ: 1C Air Pollution (U4SSC: "mass of pollutant / volume of air sampled, reported as the annual
 * mean concentration for each pollutant", µg/m³). Five data points: PM2.5, PM10, NO2, SO2, O3.
 *
 * Inputs: air-quality-station readings pm25, pm10, no2, so2, o3 (µg/m³; ppb is converted at ingest at the EU
 * reference condition, 20 °C and 101.325 kPa, devices/kinds.ts). Each data point is the mean of the city series of its metric over the period
 * (every reading of every station, so a station weighs by its readings). The annual value is this over a
 * year; month, month to date and year to date give the running figure.
 *
 * `value` carries the PM2.5 data point: the KPI has no single overall figure, and PM2.5 is the pollutant
 * with the largest health burden (WHO 2021), so lists and tiles show it; exports list all five data points.
 * Completeness is over every station series of the five metrics.
 */
const POLLUTANTS = [
  { name: 'PM2.5', metric: 'pm25' },
  { name: 'PM10', metric: 'pm10' },
  { name: 'NO2', metric: 'no2' },
  { name: 'SO2', metric: 'so2' },
  { name: 'O3', metric: 'o3' },
] as const;

export const airPollution: KpiFormula = {
  code: 'EN: EN: AQ: 1C',
  version: '1',
  description:
    'mean concentration per pollutant over the period, all stations (city series), µg/m³; value = PM2.5',
  inputKinds: ['air-quality-station'],
  async compute(ctx, period) {
    const run = new FormulaRun(ctx, period, airPollution);
    const stations = run.devices('air-quality-station');
    run.registry('stations', stations.length);
    const dataPoints: DataPointValue[] = [];
    for (const p of POLLUTANTS) {
      for (const s of stations) await run.deviceAggregate(s, p.metric);
      const city = await run.cityAggregate(p.metric);
      dataPoints.push({ name: p.name, value: city === null ? null : city.mean, unit: run.unit });
    }
    if (dataPoints.every((d) => d.value === null)) run.note('no air-quality reading in the period');
    return run.finish(dataPoints[0]!.value, dataPoints);
  },
};
