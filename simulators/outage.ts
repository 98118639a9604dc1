import type { Prng } from './prng.ts';

export interface OutageStep {
  /** Supply is off at this reading. */
  outage: boolean;
  /** This reading is the first one of an outage: send `outage_start` (the meter's last gasp). */
  started: boolean;
  /** Supply came back at this reading: send `restore`. */
  restored: boolean;
}

/**
 * Supply interruptions of an electricity meter: at each reading an outage starts with probability
 * `probability`, then lasts `minReadings`–`maxReadings` readings. Counted in readings (not wall time) so
 * that a sped-up simulation still shows complete outage / restore pairs.
 */
export class OutageProcess {
  private remaining = 0;
  /** Outages started since creation. */
  started = 0;

  constructor(
    private readonly prng: Prng,
    private readonly probability: number,
    private readonly minReadings = 1,
    private readonly maxReadings = 4,
  ) {}

  step(): OutageStep {
    if (this.remaining > 0) {
      this.remaining--;
      if (this.remaining === 0) return { outage: false, started: false, restored: true };
      return { outage: true, started: false, restored: false };
    }
    if (this.prng.chance(this.probability)) {
      this.remaining = this.prng.int(this.minReadings, this.maxReadings);
      this.started++;
      return { outage: true, started: true, restored: false };
    }
    return { outage: false, started: false, restored: false };
  }

  get active(): boolean {
    return this.remaining > 0;
  }
}
