import type { Prng } from './prng.ts';

export interface IncidentEvent {
  type: 'incident_call' | 'incident_arrival' | 'incident_cancel';
  incident: string;
}

/** Open incidents a dispatch feed tracks at most; beyond it the oldest is forgotten (never arrives). */
const OPEN_LIMIT = 256;

/**
 * Incidents of an emergency dispatch feed: each call of a reading (its `calls` value) opens an incident,
 * sent as `incident_call`; a unit arrives `minReadings`–`maxReadings` readings later (`incident_arrival`),
 * or one call in twenty is stood down (`incident_cancel`). Counted in readings, not wall time, so a sped-up
 * simulation still closes its incidents; at 5-minute readings that is a 5–25 minute response.
 */
export class IncidentProcess {
  private readonly open: Array<{ incident: string; remaining: number; cancel: boolean }> = [];
  private next = 1;

  constructor(
    private readonly prng: Prng,
    private readonly prefix: string,
    private readonly minReadings = 1,
    private readonly maxReadings = 5,
  ) {}

  step(calls: number): IncidentEvent[] {
    const out: IncidentEvent[] = [];
    for (let i = this.open.length - 1; i >= 0; i--) {
      const inc = this.open[i]!;
      if (--inc.remaining > 0) continue;
      this.open.splice(i, 1);
      out.push({ type: inc.cancel ? 'incident_cancel' : 'incident_arrival', incident: inc.incident });
    }
    for (let c = 0; c < calls; c++) {
      const incident = `${this.prefix}-${this.next++}`;
      out.push({ type: 'incident_call', incident });
      if (this.open.length >= OPEN_LIMIT) this.open.shift();
      this.open.push({
        incident,
        remaining: this.prng.int(this.minReadings, this.maxReadings),
        cancel: this.prng.chance(0.05),
      });
    }
    return out;
  }
}
