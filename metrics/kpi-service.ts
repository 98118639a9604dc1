import { DateTime } from 'luxon';
import type { CityCalendar } from '../core/city-calendar.ts';
import type { Clock } from '../core/clock.ts';
import { CityError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { KpiCatalogue, KpiDefinition, KpiFilter } from './catalogue/catalogue.ts';
import {
  type DeviceLifeChange,
  deviceLifeCause,
  profileCauses,
  restateChanges,
} from './change-restatements.ts';
import type { CityProfile, CityProfileView, ProfileUpdate } from './city-profile.ts';
import type { ConsistencyFinding } from './exports/index.ts';
import { FORMULAS, formulasForKind } from './formulas/index.ts';
import type { KpiEngine } from './kpi-engine.ts';
import { kpiLineage } from './kpi-lineage-view.ts';
import { closedMonthEntries, type KpiListItem, kpiListItem } from './kpi-list-item.ts';
import type { KpiStore, ManualValueRecord } from './kpi-store.ts';
import {
  checkConsistency,
  type EntryRequest,
  manualCause,
  sheetEntries,
  validateEntries,
} from './manual-entries.ts';
import type { ManualInputs } from './manual-inputs.ts';
import { FORMULA_INPUTS } from './manual-validation.ts';
import type { MonthClose } from './month-close.ts';
import { type ExportInput, exportFile, exportInput, rollupFindings } from './rollup-exports.ts';
import type { RestatementCause, RestatementRecord } from './rollup-types.ts';
import type { Rollups, RollupView } from './rollups.ts';
import type { KpiTargets, TargetUpdate, TargetView } from './targets.ts';

export interface Who {
  keyId: string;
  name: string;
}

const who = (p: Who): string => `${p.name} (${p.keyId})`;

/**
 * What the API and the CLI ask of the KPI engine, in one place: lists and details with their current
 * values, lineage, manual values (validated, checked against the verifier's consistency rules, then
 * stored and recomputed), the city profile, targets, roll-ups, exports and month close. The work itself
 * lives beside it, one concern per file: list items, lineage, manual entries, restatement of the closed
 * periods a change reaches, roll-up exports.
 */
export class KpiService {
  constructor(
    readonly deps: {
      engine: KpiEngine;
      rollups: Rollups;
      monthClose: MonthClose;
      kpiStore: KpiStore;
      catalogue: KpiCatalogue;
      profile: CityProfile;
      targets: KpiTargets;
      manual: ManualInputs;
      calendar: CityCalendar;
      clock: Clock;
      logger: Logger;
    },
  ) {}

  requireKpi(param: string): KpiDefinition {
    const def = this.deps.catalogue.parseCodeParam(param);
    if (def === null) throw new CityError('METRICS_UNKNOWN_KPI', `no KPI "${param}"`, { field: 'code' });
    return def;
  }

  async list(filter: KpiFilter = {}): Promise<KpiListItem[]> {
    await this.deps.engine.ensureCurrent();
    return this.deps.catalogue.list(filter).map((def) => this.item(def));
  }

  item(def: KpiDefinition): KpiListItem {
    return kpiListItem(def, this.deps);
  }

  /** One KPI: current values, each closed month's entries (newest version), trend. */
  async detail(param: string) {
    const def = this.requireKpi(param);
    await this.deps.engine.ensureCurrent();
    return { ...this.item(def), definition: def, closed: closedMonthEntries(def, this.deps.kpiStore) };
  }

  /** Why a value is what it is, for a period label (default: month to date): kpi-lineage-view.ts. */
  async lineage(param: string, periodLabel?: string) {
    const def = this.requireKpi(param);
    return kpiLineage(def, periodLabel, { ...this.deps, now: this.deps.clock.now() });
  }

  /**
   * Enters manual values (all or nothing). Each is validated (code, data point, period, unit, range, data
   * quality, override), then the period's roll-up with the new values is checked against the verifier's
   * consistency rules: a new error naming one of the entered KPIs refuses the lot. Closed periods the
   * values touch are restated, each cause naming the entry and its value before and after.
   */
  async enterValues(reqs: readonly EntryRequest[], by: Who): Promise<ManualValueRecord[]> {
    const valid = validateEntries(this.deps.catalogue, reqs, {
      enteredBy: who(by),
      enteredAt: this.deps.clock.now(),
    });
    await checkConsistency(valid, reqs, this.deps);
    // the values that held before, read before the new ones are stored
    const causes = valid.map((v) => ({ label: v.period, cause: manualCause(v, this.deps) }));
    const added = await this.deps.kpiStore.addManualValues(valid);
    await restateChanges(
      this.deps,
      causes,
      new Set(
        added.flatMap((m) => (m.subjectType === 'kpi' ? [m.subject] : FORMULA_INPUTS[m.subject]!.codes)),
      ),
    );
    return added;
  }

  /** A CSV or XLSX sheet of manual values: every bad row is reported by row and column; nothing is kept then. */
  async importSheet(buffer: Buffer, format: 'csv' | 'xlsx', by: Who): Promise<ManualValueRecord[]> {
    return this.enterValues(await sheetEntries(buffer, format), by);
  }

  async updateProfile(update: ProfileUpdate, by: Who): Promise<CityProfileView> {
    const from = update.effectiveFrom ?? this.deps.calendar.local(this.deps.clock.now()).toISODate()!;
    const fromMs = DateTime.fromISO(from, { zone: this.deps.calendar.zone }).toMillis();
    // the figures as they stood for the periods the update reaches, before it
    const before = Number.isFinite(fromMs) ? this.deps.profile.view(fromMs) : null;
    const view = await this.deps.profile.update(update, who(by));
    await restateChanges(
      this.deps,
      profileCauses(update, before, from).map((cause) => ({ label: from.slice(0, 7), cause })),
      new Set(FORMULAS.map((f) => f.code)),
    );
    return view;
  }

  /**
   * Sets a KPI's target. Targets hold for every period, so each closed period whose entries it re-scores is
   * restated (cause `target`, old and new target per entry) rather than left scored against the old one.
   */
  async setTarget(param: string, input: TargetUpdate, by: Who): Promise<TargetView> {
    const def = this.requireKpi(param);
    const { targets, kpiStore, monthClose, engine } = this.deps;
    const rows: Array<string | null> = def.dataPoints.length > 1 ? [...def.dataPoints] : [null];
    const before = rows.map((dp) => targets.valueFor(def.code, dp));
    const view = await targets.set(def, input, by.name);
    const causes: RestatementCause[] = [];
    rows.forEach((dataPoint, i) => {
      const newTarget = targets.valueFor(def.code, dataPoint);
      if (newTarget !== before[i])
        causes.push({ kind: 'target', code: def.code, dataPoint, oldTarget: before[i]!, newTarget });
    });
    engine.invalidate([def.code]);
    if (causes.length > 0)
      for (const p of kpiStore.closedPeriods()) await monthClose.restate(p, new Set([def.code]), causes);
    await engine.flush();
    return view;
  }

  /**
   * A device's installed interval changed: the KPIs fed by its kind are recomputed, and the closed months
   * from the earliest instant the change moved on are restated (cause `device-life`), since their device
   * sets and owed readings changed. An unchanged month makes no version.
   */
  async deviceLifeChanged(change: DeviceLifeChange): Promise<void> {
    const moved = deviceLifeCause(change);
    if (moved === null) return;
    await restateChanges(
      this.deps,
      [{ label: this.deps.monthClose.monthLabel(moved.from), cause: moved.cause }],
      new Set(formulasForKind(change.kind).map((f) => f.code)),
    );
  }

  rollup(label: string): Promise<RollupView> {
    return this.deps.rollups.view(label);
  }

  async consistency(
    label: string,
  ): Promise<{ period: string; version: number; closed: boolean; findings: ConsistencyFinding[] }> {
    const view = await this.rollup(label);
    return {
      period: view.period,
      version: view.version,
      closed: view.closed,
      findings: rollupFindings(view, this.deps),
    };
  }

  async export(
    label: string,
    format: 'csv' | 'xlsx' | 'json',
  ): Promise<{ body: string | Buffer; contentType: string; fileName: string }> {
    return exportFile(await this.exportInput(label), format);
  }

  /**
   * What every export of a roll-up is made of: its newest version (computed now for an open period), or a
   * given frozen version of a closed one (null when that version does not exist).
   */
  async exportInput(label: string): Promise<ExportInput>;
  async exportInput(label: string, version: number): Promise<ExportInput | null>;
  async exportInput(label: string, version?: number): Promise<ExportInput | null> {
    return exportInput(label, version, this.deps, this.deps.clock.now());
  }

  close(label: string, by: Who) {
    return this.deps.monthClose.close(label, who(by));
  }

  restatements(label: string): { period: string; restatements: RestatementRecord[] } {
    const period = this.deps.rollups.period(label).label;
    return { period, restatements: this.deps.kpiStore.restatements(period) };
  }

  versions(label: string): { period: string; versions: ReturnType<KpiStore['rollupVersions']> } {
    const period = this.deps.rollups.period(label).label;
    return { period, versions: this.deps.kpiStore.rollupVersions(period) };
  }
}
