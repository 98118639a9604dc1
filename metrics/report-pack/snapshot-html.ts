import { loadCatalogue } from '../catalogue/catalogue.ts';
import { sortEntries } from '../exports/index.ts';
import { STATUS_LABELS } from '../kpi-status.ts';
import type { ExportInput } from '../rollup-exports.ts';
import type { RollupEntry } from '../rollup-types.ts';
import type { GroupScore } from '../scoring.ts';
import { SNAPSHOT_CSS } from './snapshot-style.ts';

/**
 * The printable city snapshot of a pack: one self-contained HTML file (styles inline, no script, no image,
 * font or link fetched: a Content-Security-Policy of `default-src 'none'` says so to the browser), with a
 * print stylesheet so that printing it, or saving it as PDF, gives an A4 report. The same content as the
 * live page's snapshot view: every KPI with its value, unit, band and status, grouped by dimension,
 * sub-dimension and category with their scores, and the verifier's findings.
 */

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

const fmt = (n: number): string =>
  Math.abs(n) >= 1000
    ? n.toLocaleString('en-GB', { maximumFractionDigits: 1 })
    : String(Math.round(n * 100) / 100);

const bandClass = (points: number | null): string =>
  points !== null && points >= 1 && points <= 4 ? `band-${Math.round(points)}` : 'band-none';

const pointsOfPercent = (p: number): number => (p >= 95 ? 4 : p >= 66 ? 3 : p >= 33 ? 2 : 1);

function scoreChip(score: GroupScore | undefined): string {
  if (score === undefined) return '<span class="chip band-none">not scored</span>';
  return `<span class="chip ${bandClass(pointsOfPercent(score.percent))}">${Math.round(score.percent)} %</span>`;
}

function entryRow(e: RollupEntry): string {
  const reported = e.value !== null && Number.isFinite(e.value);
  // data points often repeat their KPI's name ("Wireless Broadband Coverage: 3G"): say it once
  const name =
    e.dataPoint === null || e.dataPoint === e.name
      ? e.name
      : e.dataPoint.startsWith(e.name)
        ? e.dataPoint
        : `${e.name} · ${e.dataPoint}`;
  const band =
    reported && e.band !== null
      ? `<span class="chip ${bandClass(e.points)}">${escapeHtml(e.band)}</span>`
      : '–';
  return `<tr class="${reported ? '' : 'nr'}" data-code="${escapeHtml(e.code)}"><td class="code">${escapeHtml(e.code)}</td><td>${escapeHtml(name)}</td><td class="num">${reported ? escapeHtml(fmt(e.value!)) : 'NR'}</td><td class="unit">${escapeHtml(e.unit)}</td><td>${band}</td><td class="status status-${e.status}">${escapeHtml(STATUS_LABELS[e.status])}</td></tr>`;
}

type Tree = Map<string, Map<string, Map<string, RollupEntry[]>>>;

function treeOf(entries: readonly RollupEntry[]): Tree {
  const tree: Tree = new Map();
  for (const e of sortEntries(entries, loadCatalogue())) {
    const subs = tree.get(e.dimension) ?? new Map<string, Map<string, RollupEntry[]>>();
    tree.set(e.dimension, subs);
    const cats = subs.get(e.subDimension) ?? new Map<string, RollupEntry[]>();
    subs.set(e.subDimension, cats);
    cats.set(e.category, [...(cats.get(e.category) ?? []), e]);
  }
  return tree;
}

function findingsSection(input: ExportInput): string {
  if (input.findings.length === 0)
    return '<section class="findings"><h2>Consistency report</h2><p>No finding: the roll-up passes every verifier rule.</p></section>';
  const items = input.findings
    .map(
      (f) =>
        `<li class="${f.severity}"><strong>${f.severity}</strong> <code>${escapeHtml(f.rule)}</code>: ${escapeHtml(f.message)}</li>`,
    )
    .join('');
  return `<section class="findings"><h2>Consistency report</h2><ul>${items}</ul></section>`;
}

export function snapshotHtml(input: ExportInput, pack: { status: 'final' | 'provisional' }): string {
  const { scores } = input;
  const dimScore = (d: string) => scores.dimensions.find((s) => s.dimension === d);
  const subScore = (d: string, s: string) =>
    scores.subDimensions.find((x) => x.dimension === d && x.subDimension === s);
  const catScore = (d: string, s: string, c: string) =>
    scores.categories.find((x) => x.dimension === d && x.subDimension === s && x.category === c);
  const tree = treeOf(input.entries);
  const reported = input.entries.filter((e) => e.value !== null && Number.isFinite(e.value)).length;
  const sections = [...tree]
    .map(([d, subs]) => {
      const subHtml = [...subs]
        .map(([s, cats]) => {
          const catHtml = [...cats]
            .map(
              ([c, entries]) =>
                `<article class="category"><h4>${escapeHtml(c)} ${scoreChip(catScore(d, s, c))}</h4><table><colgroup><col class="c-code"><col><col class="c-value"><col class="c-unit"><col class="c-band"><col class="c-status"></colgroup><thead><tr><th>Code</th><th>KPI</th><th class="num">Value</th><th>Unit</th><th>Band</th><th>Status</th></tr></thead><tbody>${entries.map(entryRow).join('')}</tbody></table></article>`,
            )
            .join('');
          return `<div class="sub-dimension"><h3>${escapeHtml(s)} ${scoreChip(subScore(d, s))}</h3>${catHtml}</div>`;
        })
        .join('');
      return `<section class="dimension"><h2>${escapeHtml(d)} ${scoreChip(dimScore(d))}</h2>${subHtml}</section>`;
    })
    .join('');
  const title = `${input.cityName} · U4SSC snapshot ${input.period} (version ${input.version})`;
  const generated = new Date(input.generatedAt).toISOString();
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${SNAPSHOT_CSS}</style>
</head>
<body>
<header>
<h1>${escapeHtml(input.cityName)} · ${escapeHtml(input.period)}</h1>
<p class="meta">U4SSC KPI snapshot · roll-up version ${input.version} · closed ${escapeHtml(input.closedAt ?? 'no')} · <span class="pack-${pack.status}">${pack.status}</span> · ${reported} of ${input.entries.length} values reported · generated ${escapeHtml(generated)}</p>
<ul class="dimension-scores">${scores.dimensions.map((s) => `<li>${escapeHtml(s.dimension)} ${scoreChip(s)}</li>`).join('')}</ul>
</header>
<main>
${sections}
${findingsSection(input)}
</main>
</body>
</html>
`;
}
