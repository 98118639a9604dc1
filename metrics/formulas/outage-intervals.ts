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
 * LOOKBACK_MS before the period, so an outage that started before the period is found and clipped to the
 * period start; one still open at the period end (or at `now`) counts until then. An interruption counts in
 * every period it overlaps (one spanning midnight on 31 January counts in January and in February).
 */
export const OUTAGE_LOOKBACK_MS = 90 * 86_400_000;

export interface Interruption {
  deviceId: string;
  customers: number;
  /** clipped to the period */
  start: number;
  end: number;
  restored: boolean;
}

export interface OutageInputs {
  interruptions: Interruption[];
  customersServed: number;
  devices: DeviceRecord[];
}

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
  const until = run.ctx.now === undefined ? end : Math.min(end, run.ctx.now);
  const events = run.ctx
    .events({
      deviceIds: devices.map((d) => d.id),
      types: ['outage_start', 'restore'],
      from: start - OUTAGE_LOOKBACK_MS,
      to: until,
    })
    .sort((a, b) => a.ts - b.ts);
  const byId = new Map(devices.map((d) => [d.id, d]));
  const open = new Map<string, number>();
  const interruptions: Interruption[] = [];
  const push = (deviceId: string, from: number, to: number, restored: boolean) => {
    if (to <= start) return; // over before the period
    interruptions.push({
      deviceId,
      customers: customersOf(byId.get(deviceId)!),
      start: Math.max(from, start),
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
  for (const [deviceId, from] of open) push(deviceId, from, until, false);
  run.registry('interruptions', interruptions.length);
  const unrestored = interruptions.filter((i) => !i.restored).length;
  if (unrestored > 0) run.note(`${unrestored} interruption(s) not restored: counted until the period end`);
  return { interruptions, customersServed, devices };
}
