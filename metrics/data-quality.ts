import { DATA_QUALITY_CLASSES, type DataQuality } from './kpi-types.ts';

/**
 * The U4SSC data-quality class of a computed value, from the provenance of its inputs. The worst class of
 * any input wins (a value is no better than its weakest input).
 *
 * - Sensor inputs with completeness at or above the capture threshold: 'accurate-measurement'.
 * - Sensor inputs below the threshold: 'estimation-with-assumptions'. The value is still computed from the
 *   readings that arrived, which assumes the missing ones resemble them; it is not "extrapolated from
 *   higher-level data" (that class is for figures scaled down from regional or national data).
 * - Sensor inputs with no reading at all: 'unknown' (the value is then "NR" anyway).
 * - Registry counts and attributes (devices, segment lengths, floor areas): 'accurate-measurement', an asset
 *   register being an exact count of what it holds.
 * - Manual inputs carry the class the analyst gave; without one, 'unknown' (not traceable).
 * - City-profile figures (population...) carry their class; without one, 'accurate-measurement' (official
 *   statistics: census or population register).
 */
export type QualityInput =
  | { source: 'sensor'; completeness: number }
  | { source: 'registry' }
  | { source: 'manual'; dataQuality?: DataQuality }
  | { source: 'profile'; dataQuality?: DataQuality };

const rank = (q: DataQuality): number => DATA_QUALITY_CLASSES.indexOf(q);

export function worstQuality(classes: readonly DataQuality[]): DataQuality {
  let worst: DataQuality = 'accurate-measurement';
  for (const q of classes) if (rank(q) > rank(worst)) worst = q;
  return worst;
}

export function sensorQuality(completeness: number, captureThreshold: number): DataQuality {
  if (completeness <= 0) return 'unknown';
  return completeness >= captureThreshold ? 'accurate-measurement' : 'estimation-with-assumptions';
}

export function inputQuality(input: QualityInput, captureThreshold: number): DataQuality {
  switch (input.source) {
    case 'sensor':
      return sensorQuality(input.completeness, captureThreshold);
    case 'registry':
      return 'accurate-measurement';
    case 'manual':
      return input.dataQuality ?? 'unknown';
    case 'profile':
      return input.dataQuality ?? 'accurate-measurement';
  }
}

/** The class of a value from all its inputs; no input at all → 'unknown'. */
export function deriveDataQuality(inputs: readonly QualityInput[], captureThreshold: number): DataQuality {
  if (inputs.length === 0) return 'unknown';
  return worstQuality(inputs.map((i) => inputQuality(i, captureThreshold)));
}
