import type { FormulaEvent, KpiFormula } from '../kpi-types.ts';
import { FormulaRun } from './formula-run.ts';

const MINUTE_MS = 60_000;
/** Calls are looked for this far before the period, so an arrival in it is paired with its earlier call. */
export const INCIDENT_LOOKBACK_MS = 86_400_000;
/** Arrivals are looked for this far past the period end (without a clock), for calls near the end. */
export const INCIDENT_LOOKAHEAD_MS = 86_400_000;

const CALL = 'incident_call';
const ARRIVAL = 'incident_arrival';
const CANCEL = 'incident_cancel';

interface Incident {
  call?: number;
  arrival?: number;
  cancelled: boolean;
  /** an arrival came before any call of the incident (clock error, or the call was sent late) */
  arrivalBeforeCall: boolean;
}

/**
 * SC: SH: SA: 5A Emergency Service Response Time. U4SSC: the average time from the emergency call to the
 * arrival on scene; minutes. This follows the catalogue's definition as written: the arithmetic mean (its
 * unit note says "average"), from the call, not from dispatch, so the time to answer and dispatch is in it.
 * The median is in the lineage (`medianMinutes`) beside it: a few long rural responses pull a mean up.
 *
 * Inputs: events of the emergency-dispatch devices: `incident_call`, `incident_arrival` and
 * `incident_cancel`, each with the incident id in `data.incident`, paired by that id across all dispatch
 * devices (a call taken by one centre may be closed by another's crew). Per incident the first call and
 * the first arrival at or after it count; repeats are ignored. An incident belongs to the period in which
 * it was called, with its whole response time: an arrival after the period end is looked for up to `now`
 * (or INCIDENT_LOOKAHEAD_MS without a clock), and calls INCIDENT_LOOKBACK_MS before the period are read so
 * that an arrival early in the period is known to answer one of them.
 *
 * Unmatched incidents are reported in the data quality: a call of the period with neither arrival nor
 * cancellation, an arrival with no call, or an arrival before its call leaves the mean resting on part of
 * the incidents, so each is counted in the lineage and the value is at best an estimation with
 * assumptions. A cancelled incident (the call was stood down) has no response and is left out, counted.
 * Events without an incident id cannot be paired: counted and noted. Completeness comes from the `calls`
 * series of the dispatch devices: a feed that stopped reporting may also have stopped sending events.
 */
export const emergencyResponseTime: KpiFormula = {
  code: 'SC: SH: SA: 5A',
  version: '1',
  description:
    'mean minutes from incident_call to the first incident_arrival, paired by data.incident, incidents called in the period; unmatched ones counted and lower the data quality',
  inputKinds: ['emergency-dispatch'],
  async compute(ctx, period) {
    const run = new FormulaRun(ctx, period, emergencyResponseTime);
    const feeds = run.devices('emergency-dispatch');
    run.registry('dispatchFeeds', feeds.length);
    for (const d of feeds) await run.deviceAggregate(d, 'calls');
    if (feeds.length === 0) return run.finish(null);

    const { start, end } = period;
    const { now } = ctx;
    const callsUntil = now === undefined ? end : Math.min(end, now);
    const horizon = now ?? end + INCIDENT_LOOKAHEAD_MS;
    const events = ctx
      .events({
        deviceIds: feeds.map((d) => d.id),
        types: [CALL, ARRIVAL, CANCEL],
        from: start - INCIDENT_LOOKBACK_MS,
        to: horizon,
      })
      .sort((a, b) => a.ts - b.ts);
    const incidents = new Map<string, Incident>();
    let withoutId = 0;
    for (const e of events) {
      const id = incidentId(e);
      if (id === undefined) {
        withoutId++;
        continue;
      }
      let inc = incidents.get(id);
      if (inc === undefined) {
        inc = { cancelled: false, arrivalBeforeCall: false };
        incidents.set(id, inc);
      }
      if (e.type === CALL) inc.call ??= e.ts;
      else if (e.type === CANCEL) inc.cancelled = true;
      else if (inc.arrival === undefined) {
        // Time order: an arrival seen before any call of its incident came before it (or lost its call).
        if (inc.call === undefined) inc.arrivalBeforeCall = true;
        else inc.arrival = e.ts;
      }
    }

    const minutes: number[] = [];
    let called = 0;
    let cancelled = 0;
    let noArrival = 0;
    let early = 0;
    for (const inc of incidents.values()) {
      if (inc.call === undefined || inc.call < start || inc.call >= callsUntil) continue;
      called++;
      if (inc.arrival !== undefined) minutes.push((inc.arrival - inc.call) / MINUTE_MS);
      else if (inc.cancelled) cancelled++;
      else {
        noArrival++;
        if (inc.arrivalBeforeCall) early++;
      }
    }
    // An arrival in the period whose call is nowhere in the window (before the lookback, or never sent).
    let arrivalsWithoutCall = 0;
    for (const e of events)
      if (e.type === ARRIVAL && e.ts >= start && e.ts < callsUntil) {
        const id = incidentId(e);
        if (id !== undefined && incidents.get(id)?.call === undefined) arrivalsWithoutCall++;
      }

    run.registry('incidentsCalled', called);
    run.registry('incidentsMatched', minutes.length);
    run.registry('incidentsCancelled', cancelled);
    const unmatched = noArrival + arrivalsWithoutCall;
    run.registry('incidentsUnmatched', unmatched);
    if (withoutId > 0) run.note(`${withoutId} incident event(s) without data.incident: not paired`);
    if (cancelled > 0) run.note(`${cancelled} incident(s) cancelled before arrival: no response time`);
    if (early > 0) run.note(`${early} incident(s) with an arrival stamped before the call: not paired`);
    if (unmatched > 0)
      run.assume(
        `${unmatched} unmatched incident(s): ${noArrival} call(s) without arrival by ${new Date(horizon).toISOString()}, ${arrivalsWithoutCall} arrival(s) without a call; the mean rests on the ${minutes.length} matched`,
      );
    if (minutes.length === 0) {
      run.note('no incident with a call and an arrival in the period');
      return run.finish(null);
    }
    run.registry('medianMinutes', median(minutes));
    return run.finish(minutes.reduce((a, m) => a + m, 0) / minutes.length);
  },
};

function incidentId(e: FormulaEvent): string | undefined {
  const v = e.data?.incident;
  if (typeof v === 'string' && v !== '') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
