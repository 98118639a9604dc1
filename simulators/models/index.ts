import type { AttributeValue } from '../../core/ports/device-directory.ts';
import { hashString, mixSeed } from '../prng.ts';
import { airQualityStation } from './air.ts';
import { buildingEnergyMeter } from './building.ts';
import { electricityFeederMeter, electricitySmartMeter, renewableGenerationMeter } from './electricity.ts';
import { emfProbe } from './emf.ts';
import { heatMeter } from './heat.ts';
import { broadbandProbe, wifiHotspot } from './ict.ts';
import { LocalTimeSource, type ValueModel } from './model-context.ts';
import { noiseMonitor } from './noise.ts';
import { emergencyDispatch } from './safety.ts';
import { trafficCounter, trafficSignalController } from './traffic.ts';
import { transitStopDisplay } from './transport.ts';
import { weighbridge } from './waste.ts';
import { drainageSensor, waterInflowMeter, waterQualitySonde, waterSmartMeter } from './water.ts';

export type { LocalTime, ModelContext, ValueModel } from './model-context.ts';
export { LocalTimeSource } from './model-context.ts';

/** One value model per device kind of devices/kinds.ts. */
export const valueModels: Readonly<Record<string, ValueModel>> = Object.freeze({
  'air-quality-station': airQualityStation,
  'noise-monitor': noiseMonitor,
  'water-inflow-meter': waterInflowMeter,
  'water-smart-meter': waterSmartMeter,
  'water-quality-sonde': waterQualitySonde,
  'electricity-smart-meter': electricitySmartMeter,
  'electricity-feeder-meter': electricityFeederMeter,
  'renewable-generation-meter': renewableGenerationMeter,
  'traffic-counter': trafficCounter,
  'emf-probe': emfProbe,
  'transit-stop-display': transitStopDisplay,
  'traffic-signal-controller': trafficSignalController,
  'heat-meter': heatMeter,
  'building-energy-meter': buildingEnergyMeter,
  weighbridge,
  'drainage-sensor': drainageSensor,
  'wifi-hotspot': wifiHotspot,
  'emergency-dispatch': emergencyDispatch,
  'broadband-probe': broadbandProbe,
});

/** Kinds whose devices can lose supply and report outage_start / restore events. */
export const OUTAGE_KINDS: ReadonlySet<string> = new Set([
  'electricity-smart-meter',
  'electricity-feeder-meter',
]);

/** Kinds whose devices report incidents: `incident_call`, then `incident_arrival` or `incident_cancel`. */
export const INCIDENT_KINDS: ReadonlySet<string> = new Set(['emergency-dispatch']);

/** The per-device seed: the same run seed and device id always give the same device. */
export const deviceSeed = (runSeed: number, deviceId: string): number =>
  mixSeed(runSeed, hashString(deviceId));

export interface GenerateInput {
  kind: string;
  seed: number;
  ts: number;
  intervalSec: number;
  attributes?: Readonly<Record<string, AttributeValue>>;
  outage?: boolean;
}

/**
 * Values for one reading: a pure function of (kind, device seed, timestamp in the city's zone, attributes,
 * outage state). Canonical units, inside the kind's plausible ranges.
 */
export class ValueGenerator {
  private readonly time: LocalTimeSource;

  constructor(zone: string) {
    this.time = new LocalTimeSource(zone);
  }

  has(kind: string): boolean {
    return kind in valueModels;
  }

  generate(input: GenerateInput): Record<string, number> {
    const model = valueModels[input.kind];
    if (model === undefined) throw new RangeError(`no value model for device kind ${input.kind}`);
    return model({
      seed: input.seed,
      ts: input.ts,
      local: this.time.at(input.ts),
      intervalSec: input.intervalSec,
      attributes: input.attributes ?? {},
      outage: input.outage ?? false,
    });
  }
}
