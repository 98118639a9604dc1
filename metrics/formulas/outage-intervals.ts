import type { DeviceRecord } from '../../core/ports/device-directory.ts';
import { type FormulaRun, numAttr } from './formula-run.ts';

/**
 * Interruptions of supply from device events, shared by SAIFI (EC: I: ES: 1C) and CAIDI (EC: I: ES: 2C).
 *
 * Which devices: feeder/substation meters when the registry holds any (customersServed each: the
 * distribution view SAIFI is defined on), else customer smart meters (last-gasp `outage_start` and
 * `restore`, `customers` each, default 1). Never both: customers behind a feeder would be counted twice,
 * and the registry does not record which feeder serves which meter.
 *
 * Pairing, per device in time order: `outage_start` opens an interruption (a second start while open is a
 * repeat and ignored), `restore` closes it (a restore with nothing open is ignored). Events are read from
 * OUTAGE_LOOKBACK_MS before the period, so a restore in the period is paired with the start it closes.
 *
 * Attribution: an interruption belongs to the period in which it started, with its whole duration, and to
 * no other. U4SSC counts interruptions over 12 months; counting one that spans midnight on 31 January in
 * January and again in February would count that event twice when months are added up or compared with
 * the year, and clipping it would split its duration across two CAIDI figures. So one started before the
 * period is not counted here, and one started in the period and restored after its end counts until its
 * restore (events are read up to `now`, or OUTAGE_LOOKAHEAD_MS past the end without a clock); one not
 * restored by `now` counts until `now` (the period end without a clock) and is noted: its value will change.
 */
export const OUTAGE_LOOKBACK_MS = 90 * 86_400_000;
export const OUTAGE_LOOKAHEAD_MS = 90 * 86_400_000;

export interface Interruption {
  deviceId: string;
  customers: number;
  /** the outage_start, inside the period */
  start: number;
  /** the restore, or the time of computation when not restored (possibly after the period end) */
  end: number;
  restored: boolean;
}

export interface OutageInputs {
  interruptions: Interruption[];
  customersServed: number;
  devices: DeviceRecord[];
}

const iso = (ts: number): string => new Date(ts).toISOString();

export async function outageInputs(run: FormulaRun): Promise<OutageInputs> {
  const feeders = run.devices('electricity-feeder-meter');
  const useFeeders = feeders.length > 0;
  const devices = useFeeders ? feeders : run.devices('electricity-smart-meter');
  const customersOf = (d: DeviceRecord): number =>
    useFeeders ? (numAttr(d, 'customersServed') ?? 0) : (numAttr(d, 'customers') ?? 1);
  run.registry(useFeeders ? 'feederMeters' : 'customerSmartMeters', devices.length);
  const customersServed = run.registry(
    'customersServed',
    devices.reduce((n, d) => n + customersOf(d), 0),
  );
  // completeness: events are only seen from devices that report; their energy series shows whether they did
  for (const d of devices) await run.deviceAggregate(d, 'energy');

  const { start, end } = run.period;
  const { now } = run.ctx;
  // Starts count up to the period end (or now, while it runs); restores are looked for beyond it.
  const startsUntil = now === undefined ? end : Math.min(end, now);
  const horizon = now ?? end + OUTAGE_LOOKAHEAD_MS;
  const events = run.ctx
    .events({
      deviceIds: devices.map((d) => d.id),
      types: ['outage_start', 'restore'],
      from: start - OUTAGE_LOOKBACK_MS,
      to: horizon,
    })
    .sort((a, b) => a.ts - b.ts);
  const byId = new Map(devices.map((d) => [d.id, d]));
  const open = new Map<string, number>();
  const interruptions: Interruption[] = [];
  let startedBefore = 0;
  const push = (deviceId: string, from: number, to: number, restored: boolean) => {
    if (from < start) {
      if (to > start) startedBefore++;
      return;
    }
    if (from >= startsUntil) return; // a later period's
    interruptions.push({
      deviceId,
      customers: customersOf(byId.get(deviceId)!),
      start: from,
      end: to,
      restored,
    });
  };
  for (const e of events) {
    if (e.type === 'outage_start') {
      if (!open.has(e.deviceId)) open.set(e.deviceId, e.ts);
    } else {
      const from = open.get(e.deviceId);
      if (from !== undefined) {
        open.delete(e.deviceId);
        push(e.deviceId, from, e.ts, true);
      }
    }
  }
  // Still open: counted until now (the period end when the computation has no clock).
  const openUntil = now ?? end;
  for (const [deviceId, from] of open) push(deviceId, from, openUntil, false);
  run.registry('interruptions', interruptions.length);
  if (startedBefore > 0)
    run.note(
      `${startedBefore} interruption(s) begun before the period and lasting into it: counted in the period they began`,
    );
  const after = interruptions.filter((i) => i.restored && i.end > end);
  for (const i of after)
    run.note(
      `interruption of ${i.deviceId} begun ${iso(i.start)} restored after the period end, at ${iso(i.end)}: its whole duration counted`,
    );
  const unrestored = interruptions.filter((i) => !i.restored).length;
  if (unrestored > 0)
    run.note(
      `${unrestored} interruption(s) not restored by ${iso(openUntil)}: counted until then, the value changes once restored`,
    );
  return { interruptions, customersServed, devices };
}

/**
 * U4SSC defines SAIFI and CAIDI over 12 months: the rolling 12 months and the calendar year are the figure
 * to report. Any shorter period (month, quarter, month or year to date), or a year measured only from
 * `from` (every meter installed during it), is an estimate of it, said in the lineage and in the
 * data-quality class (at best an estimation with assumptions).
 */
export function markShorterThanTwelveMonths(
  run: FormulaRun,
  what: string,
  from: number = run.period.start,
): void {
  const { kind, label, start } = run.period;
  const twelveMonths = kind === 'year' || kind === 'rolling-12-months';
  if (twelveMonths && from <= start) return;
  const over = from <= start ? label : `${label} since ${new Date(from).toISOString()}`;
  run.assume(
    `${what} over ${over}, not 12 months: an estimate; the rolling 12 months and the calendar year are the U4SSC figure`,
  );
}
