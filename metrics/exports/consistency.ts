import { type KpiCatalogue, loadCatalogue } from '../catalogue/catalogue.ts';
import type { ConsistencyFinding, RollupEntry } from './rollup-entry.ts';

/**
 * The checks a U4SSC verifier makes on a submission (README of the catalogue, "Consistency rules";
 * KPIs Verification Manual 2022), run on a roll-up before it is exported. The rules that relate data points
 * of named KPIs are data (SUM_RULES, ORDER_RULES) so that adding one is adding a line; the test checks that
 * every code and data point they name exists in the catalogue.
 */

/** A reference to a value: a KPI's single value, or one of its data points. */
export interface ValueRef {
  code: string;
  dataPoint?: string;
}

/** The parts of a split must add up to `total` within `tolerance` percentage points. */
export interface SumRule {
  rule: string;
  code: string;
  /** the data points that make the whole (all of the KPI's data points) */
  parts: readonly string[];
  total: number;
  tolerance: number;
  what: string;
}

/** `lesser` must not exceed `greater` (both in the same unit). */
export interface OrderRule {
  rule: string;
  lesser: ValueRef;
  greater: ValueRef;
  what: string;
}

export const SUM_RULES: readonly SumRule[] = Object.freeze([
  {
    rule: 'transport-mode-share-sum',
    code: 'EC: I: T: 4A',
    parts: ['Private vehicles', 'Public transport', 'Walking', 'Cycling', 'Para transport'],
    total: 100,
    tolerance: 2,
    what: 'transportation mode shares',
  },
  {
    rule: 'solid-waste-treatment-sum',
    code: 'EN: EN: WA: 1C',
    parts: ['Landfill', 'Burnt (open)', 'Incinerated', 'Open dump', 'Recycled', 'Other'],
    total: 100,
    tolerance: 2,
    what: 'solid waste treatment shares',
  },
]);

export const ORDER_RULES: readonly OrderRule[] = Object.freeze([
  {
    rule: 'wastewater-secondary-le-primary',
    lesser: { code: 'EN: EN: WS: 4C', dataPoint: 'Secondary' },
    greater: { code: 'EN: EN: WS: 4C', dataPoint: 'Primary' },
    what: 'wastewater receiving secondary treatment cannot exceed that receiving primary treatment',
  },
  {
    rule: 'wastewater-tertiary-le-secondary',
    lesser: { code: 'EN: EN: WS: 4C', dataPoint: 'Tertiary' },
    greater: { code: 'EN: EN: WS: 4C', dataPoint: 'Secondary' },
    what: 'wastewater receiving tertiary treatment cannot exceed that receiving secondary treatment',
  },
  {
    rule: 'potable-le-basic-water-supply',
    lesser: { code: 'EC: I: WS: 2C' },
    greater: { code: 'EC: I: WS: 1C' },
    what: 'households with potable water cannot exceed households with a basic water supply',
  },
]);

/** U4SSC verification: a submission with more than 20 % of KPIs not reported is queried. */
export const NOT_REPORTED_LIMIT = 0.2;

/** Profile figures as formulas record them in lineage (metrics/formulas/formula-run.ts: `population`). */
const PROFILE_FIGURES = [
  { key: 'population', names: ['population'], label: 'population' },
  { key: 'households', names: ['households', 'total households'], label: 'households' },
  { key: 'areaKm2', names: ['areakm2', 'area', 'city area', 'land area'], label: 'area (km²)' },
] as const;

/** Figures recorded by one run are the same number; allow float noise only. */
const SAME = (a: number, b: number): boolean =>
  Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

const fmt = (n: number): string => String(Math.round(n * 100) / 100);

/** Units whose values are shares of a whole and must lie in 0..100. */
export function isPercentEntry(e: Pick<RollupEntry, 'unit' | 'dataPoint'>): boolean {
  const unit = e.unit.trim();
  if (unit === '%' || unit.startsWith('% of')) return true;
  // Open Data is "% and number": only its percent data point is a share
  return unit === '% and number' && /percent/i.test(e.dataPoint ?? '');
}

/** Units that make a KPI per capita (per inhabitant, per 100 000 inhabitants). */
const isPerCapita = (unit: string): boolean => /per capita|inhabitants/i.test(unit);

function lookup(entries: readonly RollupEntry[], catalogue: KpiCatalogue, ref: ValueRef): number | null {
  const kpi = catalogue.get(ref.code);
  const single = kpi !== undefined && kpi.dataPoints.length === 1 ? kpi.dataPoints[0] : undefined;
  for (const e of entries) {
    if (e.code !== ref.code || e.value === null || !Number.isFinite(e.value)) continue;
    if (ref.dataPoint === undefined) {
      if (e.dataPoint === null || e.dataPoint === single) return e.value;
    } else if (e.dataPoint === ref.dataPoint) return e.value;
  }
  return null;
}

function sumFindings(entries: readonly RollupEntry[], catalogue: KpiCatalogue): ConsistencyFinding[] {
  const out: ConsistencyFinding[] = [];
  for (const r of SUM_RULES) {
    const values = r.parts.map((p) => lookup(entries, catalogue, { code: r.code, dataPoint: p }));
    if (values.every((v) => v === null)) continue; // nothing reported: the NR rule speaks for it
    // a part not reported counts as 0: a verifier queries a split that does not close either way
    const sum = values.reduce<number>((s, v) => s + (v ?? 0), 0);
    if (Math.abs(sum - r.total) <= r.tolerance) continue;
    const missing = r.parts.filter((_, i) => values[i] === null);
    out.push({
      rule: r.rule,
      severity: 'error',
      codes: [r.code],
      message:
        `${r.what} sum to ${fmt(sum)} %, expected ${r.total} % ± ${r.tolerance}` +
        (missing.length > 0 ? ` (not reported: ${missing.join(', ')})` : ''),
    });
  }
  return out;
}

function orderFindings(entries: readonly RollupEntry[], catalogue: KpiCatalogue): ConsistencyFinding[] {
  const out: ConsistencyFinding[] = [];
  const name = (ref: ValueRef): string => ref.dataPoint ?? catalogue.get(ref.code)?.name ?? ref.code;
  for (const r of ORDER_RULES) {
    const lesser = lookup(entries, catalogue, r.lesser);
    const greater = lookup(entries, catalogue, r.greater);
    if (lesser === null || greater === null || lesser <= greater) continue;
    out.push({
      rule: r.rule,
      severity: 'error',
      codes: [...new Set([r.lesser.code, r.greater.code])],
      message: `${r.what}: ${name(r.lesser)} ${fmt(lesser)} > ${name(r.greater)} ${fmt(greater)}`,
    });
  }
  return out;
}

function notReportedFindings(entries: readonly RollupEntry[], catalogue: KpiCatalogue): ConsistencyFinding[] {
  // a KPI counts as reported when any of its entries has a value; KPIs missing from the roll-up are NR
  const reported = new Set(
    entries.filter((e) => e.value !== null && Number.isFinite(e.value)).map((e) => e.code),
  );
  const nr = catalogue.kpis.filter((k) => !reported.has(k.code)).map((k) => k.code);
  const share = nr.length / catalogue.kpis.length;
  if (share <= NOT_REPORTED_LIMIT) return [];
  return [
    {
      rule: 'not-reported-share',
      severity: 'warning',
      codes: nr,
      message:
        `${nr.length} of ${catalogue.kpis.length} KPIs (${fmt(share * 100)} %) are not reported (NR); ` +
        `a verifier queries more than ${NOT_REPORTED_LIMIT * 100} %`,
    },
  ];
}

function boundsFindings(entries: readonly RollupEntry[]): ConsistencyFinding[] {
  const out: ConsistencyFinding[] = [];
  for (const e of entries) {
    if (e.value === null) continue;
    const label = e.dataPoint === null || e.dataPoint === e.name ? e.name : `${e.name} (${e.dataPoint})`;
    if (!Number.isFinite(e.value)) {
      out.push({
        rule: 'value-not-finite',
        severity: 'error',
        codes: [e.code],
        message: `${label} is not a number`,
      });
    } else if (isPercentEntry(e) && (e.value < 0 || e.value > 100)) {
      out.push({
        rule: 'percent-out-of-bounds',
        severity: 'error',
        codes: [e.code],
        message: `${label} is ${fmt(e.value)} %, outside 0–100 %`,
      });
    }
  }
  return out;
}

type Profile = { population?: number; households?: number; areaKm2?: number };

/**
 * Population, households and area must be the same across the submission (verifier rule): each figure a
 * formula recorded in its lineage is compared with the city profile, or, without a profile figure, with
 * the other KPIs' figures. Per-capita KPIs reported while the given profile has no population are flagged.
 */
function profileFindings(
  entries: readonly RollupEntry[],
  profile: Profile | undefined,
): ConsistencyFinding[] {
  const out: ConsistencyFinding[] = [];
  for (const fig of PROFILE_FIGURES) {
    const used: Array<{ code: string; value: number }> = [];
    for (const e of entries) {
      for (const m of e.lineage?.manualInputs ?? []) {
        if (
          (fig.names as readonly string[]).includes(m.name.trim().toLowerCase()) &&
          Number.isFinite(m.value)
        )
          if (!used.some((u) => u.code === e.code && SAME(u.value, m.value)))
            used.push({ code: e.code, value: m.value });
      }
    }
    const expected = profile?.[fig.key];
    if (expected !== undefined) {
      const off = used.filter((u) => !SAME(u.value, expected));
      if (off.length > 0)
        out.push({
          rule: `profile-${fig.key}-mismatch`,
          severity: 'error',
          codes: [...new Set(off.map((u) => u.code))],
          message: `${fig.label} used differs from the city profile (${fmt(expected)}): ${off
            .map((u) => `${u.code} used ${fmt(u.value)}`)
            .join('; ')}`,
        });
    } else {
      const distinct = [...new Set(used.map((u) => u.value))];
      if (distinct.length > 1)
        out.push({
          rule: `profile-${fig.key}-inconsistent`,
          severity: 'error',
          codes: [...new Set(used.map((u) => u.code))],
          message: `KPIs use different ${fig.label} figures: ${used.map((u) => `${u.code} ${fmt(u.value)}`).join('; ')}`,
        });
    }
  }
  if (profile !== undefined && profile.population === undefined) {
    const perCapita = [
      ...new Set(entries.filter((e) => e.value !== null && isPerCapita(e.unit)).map((e) => e.code)),
    ];
    if (perCapita.length > 0)
      out.push({
        rule: 'profile-population-missing',
        severity: 'warning',
        codes: perCapita,
        message: 'per-capita KPIs are reported but the city profile has no population to check them against',
      });
  }
  return out;
}

/**
 * The verifier consistency report of a roll-up: errors (a figure that cannot be right) and warnings (what a
 * verifier would query). Pure: same entries and profile, same findings, in rule order.
 */
export function consistencyReport(
  entries: RollupEntry[],
  profile?: { population?: number; households?: number; areaKm2?: number },
): ConsistencyFinding[] {
  const catalogue = loadCatalogue();
  return [
    ...sumFindings(entries, catalogue),
    ...orderFindings(entries, catalogue),
    ...boundsFindings(entries),
    ...profileFindings(entries, profile),
    ...notReportedFindings(entries, catalogue),
  ];
}
