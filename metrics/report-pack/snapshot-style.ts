/**
 * The snapshot's stylesheet, inlined into the HTML so the file needs nothing else. Colours are the live
 * page's bands; print rules give A4 pages, keep a category's table on one page and drop the backgrounds
 * printers leave out anyway except the band chips (print-color-adjust), which carry meaning.
 */
export const SNAPSHOT_CSS = `
:root { --ink: #1b2330; --muted: #5d6b80; --line: #d7dde6; --band-1: #e5484d; --band-2: #f5a524; --band-3: #8bc34a; --band-4: #2fbf71; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); margin: 2rem auto; max-width: 72rem; padding: 0 1rem; line-height: 1.35; }
h1 { margin: 0 0 0.3rem; font-size: 1.7rem; }
.meta { color: var(--muted); margin: 0 0 1rem; }
.pack-final { color: #17803f; font-weight: 700; }
.pack-provisional { color: #a15c00; font-weight: 700; }
.dimension-scores { list-style: none; padding: 0; display: flex; gap: 1.5rem; flex-wrap: wrap; }
.dimension h2 { border-bottom: 2px solid var(--line); padding-bottom: 0.2rem; margin-top: 2rem; }
.sub-dimension h3 { color: var(--muted); margin: 1rem 0 0.4rem; }
.category { border: 1px solid var(--line); border-radius: 6px; padding: 0.5rem 0.7rem; margin: 0 0 0.7rem; break-inside: avoid; }
.category h4 { margin: 0 0 0.3rem; display: flex; justify-content: space-between; }
table { width: 100%; border-collapse: collapse; font-size: 0.85rem; table-layout: fixed; }
col.c-code { width: 8.5rem; } col.c-value { width: 6.5rem; } col.c-unit { width: 13rem; } col.c-band { width: 6rem; } col.c-status { width: 7.5rem; }
td { overflow-wrap: anywhere; }
th { text-align: left; color: var(--muted); font-weight: 600; border-bottom: 1px solid var(--line); }
td, th { padding: 0.2rem 0.35rem; vertical-align: top; }
td.code { font-family: ui-monospace, monospace; font-size: 0.75rem; white-space: nowrap; color: var(--muted); }
.num { text-align: right; font-weight: 700; white-space: nowrap; }
tr.nr td { color: var(--muted); }
tr.nr td.num { font-weight: 400; }
.status-provisional { color: #a15c00; }
.status-no-data-expected { color: var(--muted); }
.chip { display: inline-block; border-radius: 999px; padding: 0 0.5rem; font-size: 0.78rem; font-weight: 600; color: #fff; background: #9aa5b5; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
.band-1 { background: var(--band-1); } .band-2 { background: var(--band-2); color: #222; } .band-3 { background: var(--band-3); color: #222; } .band-4 { background: var(--band-4); }
.findings li.error strong { color: var(--band-1); }
.findings li.warning strong { color: #a15c00; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { margin: 0; max-width: none; padding: 0; font-size: 10pt; }
  .dimension { break-before: page; }
  .dimension:first-of-type { break-before: auto; }
  .category, tr { break-inside: avoid; }
  thead { display: table-header-group; }
  a { color: inherit; text-decoration: none; }
}
`;
