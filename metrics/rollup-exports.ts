import type { CityProfile } from './city-profile.ts';
import type { ConsistencyFinding } from './exports/index.ts';
import { consistencyReport, toCsv, toJson, toXlsx } from './exports/index.ts';
import type { KpiStore } from './kpi-store.ts';
import type { RollupEntry } from './rollup-types.ts';
import type { Rollups, RollupView } from './rollups.ts';
import type { AggregateScores } from './scoring.ts';

/** A roll-up as the exports take it (metrics/exports), with when its version was frozen. */
export interface ExportInput {
  cityName: string;
  period: string;
  version: number;
  closed: boolean;
  /** ISO-8601; null while the period is open */
  closedAt: string | null;
  entries: RollupEntry[];
  findings: ConsistencyFinding[];
  scores: AggregateScores;
  generatedAt: number;
}

export interface RollupExportDeps {
  rollups: Rollups;
  kpiStore: KpiStore;
  profile: CityProfile;
}

/** The city profile's figures the verifier's consistency rules check against, as they stood at `at`. */
export function profileFigures(profile: CityProfile, at: number) {
  const out: { population?: number; households?: number; areaKm2?: number } = {};
  for (const f of ['population', 'households', 'areaKm2'] as const) {
    const v = profile.figure(f, at);
    if (v !== null) out[f] = v.value;
  }
  return out;
}

/** The consistency report of a roll-up, against the profile as it stood at the period's end. */
export function rollupFindings(
  view: RollupView,
  { rollups, profile }: RollupExportDeps,
): ConsistencyFinding[] {
  const period = rollups.period(view.period);
  return consistencyReport(view.entries, profileFigures(profile, period.end - 1));
}

/**
 * What every export of a roll-up is made of: its newest version (computed now for an open period), or a
 * given frozen version of a closed one (null when that version does not exist).
 */
export async function exportInput(
  label: string,
  version: number | undefined,
  deps: RollupExportDeps,
  now: number,
): Promise<ExportInput | null> {
  const { rollups, kpiStore, profile } = deps;
  let view: RollupView;
  if (version === undefined) view = await rollups.view(label);
  else {
    const period = rollups.period(label).label;
    const stored = kpiStore.rollupVersion(period, version);
    if (stored === null) return null;
    view = {
      period,
      version: stored.version,
      closed: true,
      closedAt: new Date(stored.closedAt).toISOString(),
      closedBy: stored.closedBy,
      entries: stored.entries,
      scores: rollups.scores(stored.entries),
    };
  }
  return {
    cityName: profile.view().name,
    period: view.period,
    version: view.version,
    closed: view.closed,
    closedAt: view.closedAt ?? null,
    entries: view.entries,
    findings: rollupFindings(view, deps),
    scores: view.scores,
    generatedAt: now,
  };
}

/** The export file of a roll-up, named after the city, the period and the version. */
export async function exportFile(
  input: ExportInput,
  format: 'csv' | 'xlsx' | 'json',
): Promise<{ body: string | Buffer; contentType: string; fileName: string }> {
  const base = `${input.cityName.replace(/[^A-Za-z0-9-]+/g, '-')}-${input.period}-v${input.version}`;
  if (format === 'csv')
    return { body: toCsv(input.entries), contentType: 'text/csv; charset=utf-8', fileName: `${base}.csv` };
  if (format === 'json')
    return { body: toJson(input), contentType: 'application/json', fileName: `${base}.json` };
  return {
    body: await toXlsx(input),
    contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    fileName: `${base}.xlsx`,
  };
}
