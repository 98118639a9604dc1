import type { ManualAppend, ManualValueRecord } from './kpi-records.ts';
import type { RestatementRecord, StoredRollup } from './rollup-types.ts';

/**
 * The KPI store's copies in memory of its two table groups with more to them than a list: manual values
 * (every entry, and the current one per subject, data point and period) and closed roll-ups (every
 * version per period, with its restatement rows). Built from a snapshot and kept up to date by the
 * store's own writes; neither reads or writes a backend.
 */

const manualKey = (m: Pick<ManualValueRecord, 'subjectType' | 'subject' | 'dataPoint' | 'period'>): string =>
  `${m.subjectType}\u0000${m.subject}\u0000${m.dataPoint ?? ''}\u0000${m.period}`;

export class ManualValueIndex {
  private readonly byId: Map<number, ManualValueRecord>;
  private readonly current = new Map<string, ManualValueRecord>();

  constructor(records: readonly ManualValueRecord[]) {
    this.byId = new Map(records.map((m) => [m.id, m]));
    for (const m of records) if (m.supersededBy === null) this.current.set(manualKey(m), m);
  }

  /** Takes in an append as the backend committed it; the added records as now held (superseded or not). */
  apply({ added, superseded }: ManualAppend): ManualValueRecord[] {
    for (const s of superseded) {
      const old = this.byId.get(s.id);
      if (old === undefined) continue;
      this.byId.set(s.id, { ...old, supersededBy: s.by });
      if (this.current.get(manualKey(old))?.id === s.id) this.current.delete(manualKey(old));
    }
    for (const rec of added) {
      this.byId.set(rec.id, rec);
      if (rec.supersededBy === null) this.current.set(manualKey(rec), rec);
    }
    // an entry superseded within the same append
    for (const s of superseded) {
      const rec = this.byId.get(s.by);
      if (rec !== undefined && this.current.get(manualKey(rec))?.id === s.id)
        this.current.set(manualKey(rec), rec);
    }
    return added.map((a) => this.byId.get(a.id) ?? a);
  }

  currentValues(subjectType?: 'kpi' | 'input'): ManualValueRecord[] {
    const all = [...this.current.values()];
    return subjectType === undefined ? all : all.filter((m) => m.subjectType === subjectType);
  }

  history(subjectType: 'kpi' | 'input', subject: string): ManualValueRecord[] {
    return [...this.byId.values()]
      .filter((m) => m.subjectType === subjectType && m.subject === subject)
      .sort((a, b) => a.id - b.id);
  }
}

export class RollupIndex {
  private readonly versions = new Map<string, StoredRollup[]>();
  private readonly restated = new Map<string, RestatementRecord[]>();

  constructor(rollups: readonly StoredRollup[], restatements: readonly RestatementRecord[]) {
    for (const r of rollups) this.add(r, []);
    for (const r of restatements) {
      const list = this.restated.get(r.period);
      if (list === undefined) this.restated.set(r.period, [r]);
      else list.push(r);
    }
  }

  add(rollup: StoredRollup, restatements: readonly RestatementRecord[]): void {
    const list = this.versions.get(rollup.period);
    if (list === undefined) this.versions.set(rollup.period, [rollup]);
    else list.push(rollup);
    if (restatements.length > 0)
      this.restated.set(rollup.period, [...(this.restated.get(rollup.period) ?? []), ...restatements]);
  }

  latest(period: string): StoredRollup | null {
    return this.versions.get(period)?.at(-1) ?? null;
  }

  version(period: string, version: number): StoredRollup | null {
    return this.versions.get(period)?.find((r) => r.version === version) ?? null;
  }

  allVersions(period: string): readonly StoredRollup[] {
    return this.versions.get(period) ?? [];
  }

  periods(): string[] {
    return [...this.versions.keys()].sort();
  }

  restatements(period: string): RestatementRecord[] {
    return [...(this.restated.get(period) ?? [])];
  }
}
