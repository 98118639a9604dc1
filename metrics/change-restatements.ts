import type { CityProfileView, ProfileUpdate } from './city-profile.ts';
import { PROFILE_FIGURES } from './city-profile.ts';
import type { KpiEngine } from './kpi-engine.ts';
import type { MonthClose } from './month-close.ts';
import type { RestatementCause } from './rollup-types.ts';

/**
 * What a change to the inputs of closed periods (a manual value, a profile figure, a device's installed
 * interval) does to them: running values are recomputed and every closed period the change reaches is
 * restated with the causes that reach it, so a frozen month never silently keeps an outdated value.
 */

/** A cause and the period label from which it holds: it reaches the closed periods ending after that. */
export interface Change {
  label: string;
  cause: RestatementCause;
}

/**
 * Recomputes running values of `codes` and restates the closed periods the changes reach, oldest first,
 * each with the causes that reach it (an entry for a period changes the closed periods ending after it
 * starts).
 */
export async function restateChanges(
  deps: { engine: KpiEngine; monthClose: MonthClose },
  changes: readonly Change[],
  codes: ReadonlySet<string>,
): Promise<void> {
  deps.engine.invalidate(codes);
  const closed = new Map<string, RestatementCause[]>();
  for (const { label, cause } of changes) {
    let reached: string[] = [];
    try {
      reached = deps.monthClose.closedPeriodsFrom(label);
    } catch {
      // a label that is not a calendar period has no closed periods
    }
    for (const p of reached) closed.set(p, [...(closed.get(p) ?? []), cause]);
  }
  for (const p of [...closed.keys()].sort()) await deps.monthClose.restate(p, codes, closed.get(p)!);
  await deps.engine.flush();
}

/** One cause per profile field the update changes, against the figures as they stood before it. */
export function profileCauses(
  update: ProfileUpdate,
  before: CityProfileView | null,
  effectiveFrom: string,
): RestatementCause[] {
  const causes: RestatementCause[] = [];
  for (const field of ['name', 'currency', ...PROFILE_FIGURES] as const) {
    const next = update[field];
    if (next === undefined) continue;
    const old = before?.[field] ?? null;
    const oldValue = old !== null && typeof old === 'object' ? old.value : old;
    if (oldValue === next) continue;
    causes.push({ kind: 'city-profile', field, effectiveFrom, oldValue, newValue: next });
  }
  return causes;
}

export interface DeviceLifeChange {
  deviceId: string;
  kind: string;
  before: { installedAt: number; removedAt: number | null };
  after: { installedAt: number; removedAt: number | null };
}

/**
 * The cause of a change to a device's installed interval, and the earliest instant it moved (the closed
 * months from there changed their device sets and owed readings); null when nothing moved.
 */
export function deviceLifeCause(change: DeviceLifeChange): { from: number; cause: RestatementCause } | null {
  const { before, after } = change;
  const moved: number[] = [];
  if (before.installedAt !== after.installedAt) moved.push(before.installedAt, after.installedAt);
  if (before.removedAt !== after.removedAt)
    for (const t of [before.removedAt, after.removedAt]) if (t !== null) moved.push(t);
  if (moved.length === 0) return null;
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  return {
    from: Math.min(...moved),
    cause: {
      kind: 'device-life',
      device: change.deviceId,
      oldInstalledAt: iso(before.installedAt)!,
      newInstalledAt: iso(after.installedAt)!,
      oldRemovedAt: iso(before.removedAt),
      newRemovedAt: iso(after.removedAt),
    },
  };
}
