import type { CityCalendar } from '../core/city-calendar.ts';
import type { KpiStore, ManualValueRecord } from './kpi-store.ts';
import type { DataQuality, Period } from './kpi-types.ts';
import { periodFromLabel } from './periods.ts';

export interface ResolvedManual {
  /** the entries used: one per data point (or one for a single-point KPI / a formula input) */
  records: ManualValueRecord[];
  /** the period label they were entered for */
  label: string;
  /** true when they were entered for an earlier period and carried forward */
  carried: boolean;
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/**
 * Which manual entries hold for a period. An analyst enters a value for the period it was published for
 * (a month, a quarter, a year); a period takes the entry of its own month, else of its quarter, else of its
 * year, else the newest entry of an earlier period, carried forward and said so in the lineage (statistics
 * such as the number of water meters are published once a year, and the latest figure stands until the
 * next one).
 */
export class ManualInputs {
  private readonly ends = new Map<string, number>();

  constructor(private readonly deps: { kpiStore: KpiStore; calendar: CityCalendar }) {}

  /** The current entries of a subject that hold for `period`, or null if none does. */
  resolve(subjectType: 'kpi' | 'input', subject: string, period: Period): ResolvedManual | null {
    const all = this.deps.kpiStore.currentManualValues(subjectType).filter((m) => m.subject === subject);
    if (all.length === 0) return null;
    const byLabel = new Map<string, ManualValueRecord[]>();
    for (const m of all) {
      const list = byLabel.get(m.period) ?? [];
      list.push(m);
      byLabel.set(m.period, list);
    }
    for (const label of this.candidates(period)) {
      const records = byLabel.get(label);
      if (records !== undefined) return { records, label, carried: false };
    }
    let best: { label: string; end: number } | null = null;
    for (const label of byLabel.keys()) {
      const end = this.endOf(label);
      if (end === null || end > period.end) continue;
      if (best === null || end > best.end) best = { label, end };
    }
    return best === null ? null : { records: byLabel.get(best.label)!, label: best.label, carried: true };
  }

  /** What `ctx.manualInput(name, period)` answers. */
  input(
    name: string,
    period: Period,
  ): { value: number; unit: string; source: string; dataQuality?: DataQuality } | null {
    const r = this.resolve('input', name, period);
    const m = r?.records[0];
    if (m === undefined) return null;
    const source = r!.carried ? `${m.source} (entered for ${r!.label}, carried forward)` : m.source;
    return { value: m.value, unit: m.unit, source, dataQuality: m.dataQuality };
  }

  /** Labels whose entries belong to `period`, most specific first. */
  private candidates(period: Period): string[] {
    const { calendar } = this.deps;
    const startAt = calendar.local(period.start);
    const lastAt = calendar.local(Math.max(period.start, period.end - 1));
    const monthOf = (d: typeof startAt) => [
      `${d.year}-${pad2(d.month)}`,
      `${d.year}-Q${Math.ceil(d.month / 3)}`,
      String(d.year),
    ];
    switch (period.kind) {
      case 'month':
      case 'month-to-date':
        return monthOf(startAt);
      case 'quarter':
        return [`${startAt.year}-Q${Math.ceil(startAt.month / 3)}`, String(startAt.year)];
      case 'year':
      case 'year-to-date':
        return [String(startAt.year)];
      case 'rolling-12-months':
        return monthOf(lastAt);
    }
  }

  private endOf(label: string): number | null {
    let end = this.ends.get(label);
    if (end === undefined) {
      const p = periodFromLabel(this.deps.calendar, label);
      if (p === null) return null;
      end = p.end;
      if (this.ends.size > 10_000) this.ends.clear();
      this.ends.set(label, end);
    }
    return end;
  }
}
