import type { KpiFormula } from '../kpi-types.ts';
import { airPollution } from './air-pollution.ts';
import { buildingManagementSystems } from './building-management-systems.ts';
import { drainageIctMonitoring } from './drainage-ict-monitoring.ts';
import { drinkingWaterQuality } from './drinking-water-quality.ts';
import { dynamicTransportInformation } from './dynamic-transport-information.ts';
import { electricityConsumption } from './electricity-consumption.ts';
import { electricitySupplyIctMonitoring } from './electricity-supply-ict-monitoring.ts';
import { emergencyResponseTime } from './emergency-response-time.ts';
import { emfExposure } from './emf-exposure.ts';
import { ghgEmissions } from './ghg-emissions.ts';
import { intersectionControl } from './intersection-control.ts';
import { noiseExposure } from './noise-exposure.ts';
import { outageFrequency } from './outage-frequency.ts';
import { outageTime } from './outage-time.ts';
import { publicBuildingEnergy } from './public-building-energy.ts';
import { publicWifi } from './public-wifi.ts';
import { renewableEnergy } from './renewable-energy.ts';
import { residentialThermalEnergy } from './residential-thermal-energy.ts';
import { smartElectricityMeters } from './smart-electricity-meters.ts';
import { smartWaterMeters } from './smart-water-meters.ts';
import { solidWasteTreatment } from './solid-waste-treatment.ts';
import { trafficMonitoring } from './traffic-monitoring.ts';
import { travelTimeIndex } from './travel-time-index.ts';
import { waterConsumption } from './water-consumption.ts';
import { waterSupplyIctMonitoring } from './water-supply-ict-monitoring.ts';
import { waterSupplyLoss } from './water-supply-loss.ts';
import { wirelessBroadbandCoverage } from './wireless-broadband-coverage.ts';

/** Every KPI citymetrics computes, one formula per KPI code (catalogue `obtained` other than 'manual'). */
export const FORMULAS: readonly KpiFormula[] = Object.freeze([
  airPollution,
  noiseExposure,
  emfExposure,
  waterConsumption,
  waterSupplyLoss,
  smartWaterMeters,
  waterSupplyIctMonitoring,
  drinkingWaterQuality,
  electricityConsumption,
  renewableEnergy,
  outageFrequency,
  outageTime,
  smartElectricityMeters,
  electricitySupplyIctMonitoring,
  trafficMonitoring,
  travelTimeIndex,
  dynamicTransportInformation,
  intersectionControl,
  residentialThermalEnergy,
  publicBuildingEnergy,
  buildingManagementSystems,
  solidWasteTreatment,
  drainageIctMonitoring,
  publicWifi,
  emergencyResponseTime,
  wirelessBroadbandCoverage,
  ghgEmissions,
]);

const byCode = new Map(FORMULAS.map((f) => [f.code, f]));

/** The formula of a KPI code, if citymetrics computes it. */
export const formulaFor = (code: string): KpiFormula | undefined => byCode.get(code);

const byKind = new Map<string, readonly KpiFormula[]>();

/** Formulas fed by a device kind: what to recompute when a reading or event of that kind arrives. */
export const formulasForKind = (kindId: string): readonly KpiFormula[] => {
  // Asked once per accepted message (kpi-engine.ts): computed once per kind.
  let found = byKind.get(kindId);
  if (found === undefined) {
    found = FORMULAS.filter((f) => f.inputKinds.includes(kindId));
    byKind.set(kindId, found);
  }
  return found;
};
