import { DateTime } from 'luxon';
import type { CityCalendar } from '../core/city-calendar.ts';
import type { Clock } from '../core/clock.ts';
import { CityError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { compactCode, type KpiCatalogue, type KpiDefinition, type KpiFilter } from './catalogue/catalogue.ts';
import {
  type CityProfile,
  type CityProfileView,
  PROFILE_FIGURES,
  type ProfileUpdate,
} from './city-profile.ts';
import type { ConsistencyFinding } from './exports/index.ts';
import { consistencyReport, toCsv, toJson, toXlsx } from './exports/index.ts';
import { parseManualSheetOffThread } from './exports/parse-sheet-off-thread.ts';
import { FORMULAS, formulasForKind } from './formulas/index.ts';
import { CURRENT_KINDS, type CurrentKind, type KpiEngine } from './kpi-engine.ts';
import {
  closesAt,
  describeVerdict,
  type KpiStatus,
  kpiVerdict,
  type StatusReason,
  type StatusVerdict,
} from './kpi-status.ts';
import type { KpiStore, ManualValueRecord } from './kpi-store.ts';
import type { Lineage } from './kpi-types.ts';
import { type KpiValueView, type ScoreSummary, scoreSummary, toView } from './kpi-views.ts';
import type { ManualInputs } from './manual-inputs.ts';
import {
  type EntryProblem,
  FORMULA_INPUTS,
  type ManualEntryRequest,
  validateEntry,
} from './manual-validation.ts';
import type { MonthClose } from './month-close.ts';
import { isCalendarPeriod, periodFromLabel } from './periods.ts';
import type { RestatementCause, RestatementRecord, RollupEntry } from './rollup-types.ts';
import type { Rollups, RollupView, Trend } from './rollups.ts';
import type { AggregateScores } from './scoring.ts';
import type { KpiTargets, TargetUpdate, TargetView } from './targets.ts';

export interface KpiListItem {
  code: string;
  compactCode: string;
  name: string;
  dimension: string;
  subDimension: string;
  category: string;
  level: string;
  unit: string;
  obtained: string;
  betterWhen: string;
  target: number | null;
  current: Record<CurrentKind, KpiValueView | null>;
  score: ScoreSummary | null;
  trend: Trend;
}

export interface Who {
  keyId: string;
  name: string;
}

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

const who = (p: Who): string => `${p.name} (${p.keyId})`;

/**
 * What the API and the CLI ask of the KPI engine, in one place: lists and details with their current
 * values, lineage, manual values (validated, checked against the verifier's consistency rules, then
 * stored and recomputed), the city profile, targets, roll-ups, exports and month close.
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
    const { engine, targets, rollups } = this.deps;
    const cur = engine.current(def.code);
    const current = Object.fromEntries(
      CURRENT_KINDS.map((k) => [k, cur[k] === null ? null : toView(cur[k]!)]),
    ) as Record<CurrentKind, KpiValueView | null>;
    const t = targets.get(def.code);
    return {
      code: def.code,
      compactCode: compactCode(def.code),
      name: def.name,
      dimension: def.dimension,
      subDimension: def.subDimension,
      category: def.category,
      level: def.level,
      unit: def.unit,
      obtained: def.obtained,
      betterWhen: def.betterWhen,
      target: t?.value ?? (t?.dataPoints ? (t.dataPoints[def.dataPoints[0]!] ?? null) : null),
      current,
      score: scoreSummary(cur['year-to-date'] ?? cur['month-to-date'], def, targets),
      trend: rollups.trend(def.code),
    };
  }

  /** One KPI: current values, each closed month's entries (newest version), trend. */
  async detail(param: string) {
    const def = this.requireKpi(param);
    await this.deps.engine.ensureCurrent();
    const closed = this.deps.kpiStore.closedPeriods().map((label) => {
      const r = this.deps.kpiStore.latestRollup(label)!;
      return {
        period: label,
        version: r.version,
        closedAt: new Date(r.closedAt).toISOString(),
        entries: r.entries.filter((e) => e.code === def.code).map(({ lineage: _l, ...e }) => e),
      };
    });
    return { ...this.item(def), definition: def, closed };
  }

  /**
   * Why a value is what it is: the value and its lineage for a period label (default: month to date),
   * with its status and the reason for it in words (the rule of kpi-status.ts, with this city's capture
   * threshold and grace days).
   */
  async lineage(param: string, periodLabel?: string) {
    const def = this.requireKpi(param);
    const { engine, kpiStore, calendar, clock } = this.deps;
    const now = clock.now();
    const period =
      periodLabel === undefined
        ? engine.currentPeriod('month-to-date', now)
        : periodFromLabel(calendar, periodLabel, now);
    if (period === null)
      throw new CityError('METRICS_PERIOD_INVALID', `not a period label: ${periodLabel}`, {
        field: 'period',
      });
    const rule = engine.statusRule();
    const stored = kpiStore.latestRollup(period.label);
    const statusOf = (v: {
      completeness: number | null;
      status: KpiStatus;
      statusReason?: StatusReason;
      value: number | null;
    }) => {
      const input = { period, completeness: v.completeness, hasValue: v.value !== null };
      let verdict: StatusVerdict =
        v.statusReason === undefined
          ? kpiVerdict(input, rule, now, stored !== null)
          : { status: v.status, reason: v.statusReason };
      // the one input a stored entry does not keep: a carried-forward manual figure made it provisional
      if (verdict.status !== v.status && v.status === 'provisional')
        verdict = { status: 'provisional', reason: 'input-provisional' };
      return {
        status: v.status,
        statusReason: verdict.reason,
        statusWhy: describeVerdict(verdict, input, rule),
        captureThreshold: rule.captureThreshold,
        closesAt: isCalendarPeriod(period)
          ? new Date(closesAt(calendar, period, rule.graceDays)).toISOString()
          : null,
      };
    };
    if (stored !== null) {
      const entries = stored.entries.filter((e) => e.code === def.code);
      const first = entries[0];
      return {
        code: def.code,
        period: period.label,
        closed: true,
        version: stored.version,
        value: first?.value ?? null,
        ...(first === undefined ? {} : statusOf(first)),
        entries: entries.map(({ lineage: _l, ...e }) => e),
        lineage: (first?.lineage ?? null) as Lineage | null,
      };
    }
    const v = (await engine.computePeriod(period, new Set([def.code]))).get(def.code)!;
    return {
      code: def.code,
      period: period.label,
      closed: false,
      version: 0,
      value: v.value,
      ...statusOf(v),
      view: toView(v),
      lineage: v.lineage,
    };
  }

  /**
   * Enters manual values (all or nothing). Each is validated (code, data point, period, unit, range, data
   * quality, override), then the period's roll-up with the new values is checked against the verifier's
   * consistency rules: a new error naming one of the entered KPIs refuses the lot. Closed periods the
   * values touch are restated, each cause naming the entry and its value before and after.
   */
  async enterValues(
    reqs: ReadonlyArray<ManualEntryRequest & { row?: number }>,
    by: Who,
  ): Promise<ManualValueRecord[]> {
    const now = this.deps.clock.now();
    const problems: EntryProblem[] = [];
    const valid = [];
    for (const [i, req] of reqs.entries()) {
      const r = validateEntry(this.deps.catalogue, req, req.row ?? i + 1, {
        enteredBy: who(by),
        enteredAt: now,
      });
      if (r.ok) valid.push(r.value);
      else problems.push(...r.problems);
    }
    if (problems.length > 0) throw problemsError(problems, reqs.length > 1);
    await this.checkConsistency(valid, reqs);
    const causes = valid.map((v) => ({ label: v.period, cause: this.manualCause(v) }));
    const added = await this.deps.kpiStore.addManualValues(valid);
    await this.afterChange(
      causes,
      new Set(
        added.flatMap((m) => (m.subjectType === 'kpi' ? [m.subject] : FORMULA_INPUTS[m.subject]!.codes)),
      ),
    );
    return added;
  }

  /** A CSV or XLSX sheet of manual values: every bad row is reported by row and column; nothing is kept then. */
  async importSheet(buffer: Buffer, format: 'csv' | 'xlsx', by: Who): Promise<ManualValueRecord[]> {
    const parsed = await parseManualSheetOffThread(buffer, format);
    if (parsed.errors.length > 0)
      throw new CityError(
        'METRICS_IMPORT_INVALID',
        `${parsed.errors.length} problem(s): ${describe(parsed.errors[0]!)}`,
        {
          field: `row ${parsed.errors[0]!.row}, ${parsed.errors[0]!.column}`,
          details: { errors: parsed.errors },
        },
      );
    return this.enterValues(
      parsed.rows.map((r) => ({
        row: r.row,
        code: r.code,
        dataPoint: r.dataPoint ?? null,
        period: r.period,
        value: r.value,
        unit: r.unit,
        dataQuality: r.dataQuality,
        source: r.source,
        evidence: r.evidence ?? null,
      })),
      by,
    );
  }

  async updateProfile(update: ProfileUpdate, by: Who): Promise<CityProfileView> {
    const from = update.effectiveFrom ?? this.deps.calendar.local(this.deps.clock.now()).toISODate()!;
    const fromMs = DateTime.fromISO(from, { zone: this.deps.calendar.zone }).toMillis();
    // the figures as they stood for the periods the update reaches, before it
    const before = Number.isFinite(fromMs) ? this.deps.profile.view(fromMs) : null;
    const view = await this.deps.profile.update(update, who(by));
    const causes: RestatementCause[] = [];
    for (const field of ['name', 'currency', ...PROFILE_FIGURES] as const) {
      const next = update[field];
      if (next === undefined) continue;
      const old = before?.[field] ?? null;
      const oldValue = old !== null && typeof old === 'object' ? old.value : old;
      if (oldValue === next) continue;
      causes.push({ kind: 'city-profile', field, effectiveFrom: from, oldValue, newValue: next });
    }
    await this.afterChange(
      causes.map((cause) => ({ label: from.slice(0, 7), cause })),
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
  async deviceLifeChanged(change: {
    deviceId: string;
    kind: string;
    before: { installedAt: number; removedAt: number | null };
    after: { installedAt: number; removedAt: number | null };
  }): Promise<void> {
    const { before, after } = change;
    const moved: number[] = [];
    if (before.installedAt !== after.installedAt) moved.push(before.installedAt, after.installedAt);
    if (before.removedAt !== after.removedAt)
      for (const t of [before.removedAt, after.removedAt]) if (t !== null) moved.push(t);
    if (moved.length === 0) return;
    const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
    const cause: RestatementCause = {
      kind: 'device-life',
      device: change.deviceId,
      oldInstalledAt: iso(before.installedAt)!,
      newInstalledAt: iso(after.installedAt)!,
      oldRemovedAt: iso(before.removedAt),
      newRemovedAt: iso(after.removedAt),
    };
    const label = this.deps.monthClose.monthLabel(Math.min(...moved));
    await this.afterChange([{ label, cause }], new Set(formulasForKind(change.kind).map((f) => f.code)));
  }

  rollup(label: string): Promise<RollupView> {
    return this.deps.rollups.view(label);
  }

  async consistency(
    label: string,
  ): Promise<{ period: string; version: number; closed: boolean; findings: ConsistencyFinding[] }> {
    const view = await this.rollup(label);
    return { period: view.period, version: view.version, closed: view.closed, findings: this.findings(view) };
  }

  async export(
    label: string,
    format: 'csv' | 'xlsx' | 'json',
  ): Promise<{ body: string | Buffer; contentType: string; fileName: string }> {
    const input = await this.exportInput(label);
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

  /**
   * What every export of a roll-up is made of: its newest version (computed now for an open period), or a
   * given frozen version of a closed one (null when that version does not exist).
   */
  async exportInput(label: string): Promise<ExportInput>;
  async exportInput(label: string, version: number): Promise<ExportInput | null>;
  async exportInput(label: string, version?: number): Promise<ExportInput | null> {
    let view: RollupView;
    if (version === undefined) view = await this.rollup(label);
    else {
      const period = this.deps.rollups.period(label).label;
      const stored = this.deps.kpiStore.rollupVersion(period, version);
      if (stored === null) return null;
      view = {
        period,
        version: stored.version,
        closed: true,
        closedAt: new Date(stored.closedAt).toISOString(),
        closedBy: stored.closedBy,
        entries: stored.entries,
        scores: this.deps.rollups.scores(stored.entries),
      };
    }
    return {
      cityName: this.deps.profile.view().name,
      period: view.period,
      version: view.version,
      closed: view.closed,
      closedAt: view.closedAt ?? null,
      entries: view.entries,
      findings: this.findings(view),
      scores: view.scores,
      generatedAt: this.deps.clock.now(),
    };
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

  private findings(view: RollupView): ConsistencyFinding[] {
    const period = this.deps.rollups.period(view.period);
    return consistencyReport(view.entries, this.profileFigures(period.end - 1));
  }

  private profileFigures(at: number) {
    const out: { population?: number; households?: number; areaKm2?: number } = {};
    for (const f of ['population', 'households', 'areaKm2'] as const) {
      const v = this.deps.profile.figure(f, at);
      if (v !== null) out[f] = v.value;
    }
    return out;
  }

  /** New verifier errors that name an entered KPI refuse the entry (METRICS_INCONSISTENT). */
  private async checkConsistency(
    valid: ReadonlyArray<{
      subjectType: string;
      subject: string;
      dataPoint: string | null;
      period: string;
      value: number;
    }>,
    reqs: ReadonlyArray<{ row?: number }>,
  ): Promise<void> {
    const byPeriod = new Map<string, typeof valid>();
    for (const v of valid) {
      if (v.subjectType !== 'kpi') continue;
      byPeriod.set(v.period, [...(byPeriod.get(v.period) ?? []), v]);
    }
    for (const [label, values] of byPeriod) {
      const period = this.deps.rollups.period(label);
      const before = await this.deps.rollups.build(period, { version: 0, closed: false });
      const after: RollupEntry[] = before.map((e) => {
        const v = values.find(
          (x) => x.subject === e.code && (x.dataPoint === e.dataPoint || e.dataPoint === null),
        );
        return v === undefined ? e : { ...e, value: v.value, source: 'manual' };
      });
      const profile = this.profileFigures(period.end - 1);
      const known = new Set(consistencyReport(before, profile).map((f) => `${f.rule}|${f.codes.join(',')}`));
      const codes = new Set(values.map((v) => v.subject));
      const fresh = consistencyReport(after, profile).filter(
        (f) =>
          f.severity === 'error' &&
          !known.has(`${f.rule}|${f.codes.join(',')}`) &&
          f.codes.some((c) => codes.has(c)),
      );
      if (fresh.length > 0) {
        const rowOf = (code: string) => {
          const i = valid.findIndex((v) => v.subject === code && v.period === label);
          return reqs[i]?.row ?? i + 1;
        };
        const f = fresh[0]!;
        throw new CityError(
          'METRICS_INCONSISTENT',
          `row ${rowOf(f.codes.find((c) => codes.has(c))!)}: ${f.message}`,
          {
            field: 'value',
            details: { findings: fresh },
          },
        );
      }
    }
  }

  /** What a manual entry changes: the value that held for its period before (carried forward or not). */
  private manualCause(v: {
    subjectType: 'kpi' | 'input';
    subject: string;
    dataPoint: string | null;
    period: string;
    value: number;
  }): RestatementCause {
    const period = periodFromLabel(this.deps.calendar, v.period);
    const held = period === null ? null : this.deps.manual.resolve(v.subjectType, v.subject, period);
    const old =
      held?.records.find((r) => r.dataPoint === v.dataPoint) ??
      (held?.records.length === 1 && v.dataPoint === null ? held.records[0] : undefined);
    return {
      kind: 'manual-input',
      subjectType: v.subjectType,
      subject: v.subject,
      dataPoint: v.dataPoint,
      period: v.period,
      oldValue: old?.value ?? null,
      newValue: v.value,
    };
  }

  /**
   * Recomputes running values and restates the closed periods the changes reach; each closed period is
   * restated with the causes that reach it (an entry for a period changes the closed periods ending after
   * it starts).
   */
  private async afterChange(
    changes: ReadonlyArray<{ label: string; cause: RestatementCause }>,
    codes: ReadonlySet<string>,
  ): Promise<void> {
    this.deps.engine.invalidate(codes);
    const closed = new Map<string, RestatementCause[]>();
    for (const { label, cause } of changes) {
      let reached: string[] = [];
      try {
        reached = this.deps.monthClose.closedPeriodsFrom(label);
      } catch {
        // a label that is not a calendar period has no closed periods
      }
      for (const p of reached) closed.set(p, [...(closed.get(p) ?? []), cause]);
    }
    for (const p of [...closed.keys()].sort()) await this.deps.monthClose.restate(p, codes, closed.get(p)!);
    await this.deps.engine.flush();
  }
}

const describe = (e: { row: number; column: string; message: string }): string =>
  `row ${e.row}, ${e.column}: ${e.message}`;

/** One problem keeps its own code (409 for an override); several, or a sheet, are METRICS_IMPORT_INVALID. */
function problemsError(problems: EntryProblem[], many: boolean): CityError {
  const first = problems[0]!;
  if (!many)
    return new CityError(first.code, first.message, { field: first.column, details: { errors: problems } });
  return new CityError('METRICS_IMPORT_INVALID', `${problems.length} problem(s): ${describe(first)}`, {
    field: `row ${first.row}, ${first.column}`,
    details: { errors: problems },
  });
}
