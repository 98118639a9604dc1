import { DateTime } from 'luxon';
import type { CityCalendar } from '../core/city-calendar.ts';
import type { Clock } from '../core/clock.ts';
import { CityError } from '../core/errors.ts';
import type { KpiStore, ProfileField, ProfileRecord } from './kpi-store.ts';
import type { DataQuality } from './kpi-types.ts';

/** The figures that feed per-capita, per-household and per-100 000 KPIs. */
export const PROFILE_FIGURES = ['population', 'households', 'areaKm2', 'gdp'] as const;
export type ProfileFigure = (typeof PROFILE_FIGURES)[number];

export interface FigureView {
  value: number;
  effectiveFrom: string;
  dataQuality: DataQuality | null;
  source: string | null;
}

export interface CityProfileView {
  name: string;
  timeZone: string;
  currency: string | null;
  population: FigureView | null;
  households: FigureView | null;
  areaKm2: FigureView | null;
  gdp: FigureView | null;
  /** the instant the figures hold at (ISO) */
  at: string;
  history: Array<{
    field: ProfileField;
    value: number | string;
    effectiveFrom: string;
    enteredBy: string;
    enteredAt: string;
  }>;
}

export interface ProfileUpdate {
  name?: string;
  currency?: string;
  population?: number;
  households?: number;
  areaKm2?: number;
  gdp?: number;
  /** local date `YYYY-MM-DD`; default: today in the city */
  effectiveFrom?: string;
  dataQuality?: DataQuality;
  source?: string;
}

/**
 * The city profile (name, time zone, population, households, area, currency, GDP), effective-dated: a
 * census figure entered "from 2026-01-01" applies to every period ending after that local midnight, while
 * earlier periods keep the figure that held then. The time zone is the platform's (CITY_TIMEZONE): periods
 * are computed in it at start, so it is shown here but not changed through the profile.
 */
export class CityProfile {
  constructor(
    private readonly deps: {
      kpiStore: KpiStore;
      calendar: CityCalendar;
      clock: Clock;
      defaults: { name: string; timeZone: string };
    },
  ) {}

  /** The figure effective at `at` (epoch ms), or null if none was entered for that time. */
  figure(
    name: ProfileFigure,
    at: number,
  ): { value: number; effectiveFrom: string; dataQuality?: DataQuality } | null {
    const rec = this.effective(name, at);
    if (rec === null || typeof rec.value !== 'number') return null;
    return rec.dataQuality === null
      ? { value: rec.value, effectiveFrom: rec.effectiveFrom }
      : { value: rec.value, effectiveFrom: rec.effectiveFrom, dataQuality: rec.dataQuality };
  }

  view(at: number = this.deps.clock.now()): CityProfileView {
    const fig = (name: ProfileFigure): FigureView | null => {
      const r = this.effective(name, at);
      return r === null || typeof r.value !== 'number'
        ? null
        : { value: r.value, effectiveFrom: r.effectiveFrom, dataQuality: r.dataQuality, source: r.source };
    };
    const text = (name: 'name' | 'currency'): string | null => {
      const r = this.effective(name, at);
      return r === null ? null : String(r.value);
    };
    return {
      name: text('name') ?? this.deps.defaults.name,
      timeZone: this.deps.defaults.timeZone,
      currency: text('currency'),
      population: fig('population'),
      households: fig('households'),
      areaKm2: fig('areaKm2'),
      gdp: fig('gdp'),
      at: new Date(at).toISOString(),
      history: this.deps.kpiStore.profileRecords().map((r) => ({
        field: r.field,
        value: r.value,
        effectiveFrom: r.effectiveFrom,
        enteredBy: r.enteredBy,
        enteredAt: new Date(r.enteredAt).toISOString(),
      })),
    };
  }

  /** Records the given fields as effective from one date; earlier entries stay for earlier periods. */
  async update(input: ProfileUpdate, enteredBy: string): Promise<CityProfileView> {
    const now = this.deps.clock.now();
    const from = input.effectiveFrom ?? this.deps.calendar.local(now).toISODate()!;
    const local = DateTime.fromISO(from, { zone: this.deps.calendar.zone });
    if (!/^\d{4}-\d{2}-\d{2}$/.test(from) || !local.isValid)
      throw new CityError('API_VALIDATION', `effectiveFrom is not a date YYYY-MM-DD: ${from}`, {
        field: 'effectiveFrom',
      });
    const rows: ProfileRecord[] = [];
    const base = {
      effectiveFrom: from,
      effectiveFromMs: local.startOf('day').toMillis(),
      dataQuality: input.dataQuality ?? null,
      source: input.source ?? null,
      enteredBy,
      enteredAt: now,
    };
    for (const field of ['name', 'currency', ...PROFILE_FIGURES] as const) {
      const value = input[field];
      if (value === undefined) continue;
      if (typeof value === 'number' && !(Number.isFinite(value) && value > 0))
        throw new CityError('API_VALIDATION', `${field} must be a positive number`, { field });
      rows.push({ ...base, field, value });
    }
    if (rows.length === 0)
      throw new CityError('API_VALIDATION', 'nothing to update: give at least one profile field', {
        field: 'body',
      });
    await this.deps.kpiStore.addProfile(rows);
    return this.view(now);
  }

  private effective(field: ProfileField, at: number): ProfileRecord | null {
    let found: ProfileRecord | null = null;
    // records are sorted by field, then effective date, then entry order: the last eligible one wins
    for (const r of this.deps.kpiStore.profileRecords()) {
      if (r.field === field && r.effectiveFromMs <= at) found = r;
    }
    return found;
  }
}
