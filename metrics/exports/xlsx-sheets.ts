import type ExcelJS from 'exceljs';
import type { ConsistencyFinding, RollupEntry } from './rollup-entry.ts';
import { addHeader, addTitle, cellText, type TitleInfo } from './xlsx-style.ts';

/** The "Consistency" and "Lineage" sheets of the XLSX export. */

export function addConsistencySheet(
  wb: ExcelJS.Workbook,
  info: TitleInfo,
  findings: ConsistencyFinding[],
): void {
  const ws = wb.addWorksheet('Consistency');
  const headerRow = addTitle(ws, info, 'verifier consistency checks');
  addHeader(ws, headerRow, [
    { header: 'Severity', width: 10 },
    { header: 'Rule', width: 34 },
    { header: 'KPIs', width: 30 },
    { header: 'Finding', width: 100 },
  ]);
  if (findings.length === 0) {
    ws.getRow(headerRow + 1).values = ['', '', '', 'no findings: every rule passed'];
    return;
  }
  findings.forEach((f, i) => {
    const row = ws.getRow(headerRow + 1 + i);
    // a long list of not-reported KPIs is cut to what a cell holds; the JSON export keeps all codes
    row.values = [f.severity, f.rule, cellText(f.codes.join(', ')), cellText(f.message)];
    row.getCell(1).font = { bold: true, color: { argb: f.severity === 'error' ? 'FFC00000' : 'FFB36B00' } };
    row.getCell(3).alignment = { wrapText: true, vertical: 'top' };
    row.getCell(4).alignment = { wrapText: true, vertical: 'top' };
  });
}

const iso = (ts: number | null): string => (ts === null ? '' : new Date(ts).toISOString());

export function addLineageSheet(wb: ExcelJS.Workbook, info: TitleInfo, entries: RollupEntry[]): void {
  const ws = wb.addWorksheet('Lineage');
  const headerRow = addTitle(ws, info, 'lineage of each value');
  addHeader(ws, headerRow, [
    { header: 'Code', width: 16 },
    { header: 'Data point', width: 18 },
    { header: 'Formula', width: 40 },
    { header: 'Formula version', width: 10 },
    { header: 'Devices', width: 9 },
    { header: 'Series', width: 9 },
    { header: 'Readings', width: 11 },
    { header: 'From', width: 22 },
    { header: 'To', width: 22 },
    { header: 'Manual inputs', width: 50 },
    { header: 'Registry counts', width: 30 },
    { header: 'Notes', width: 60 },
  ]);
  entries.forEach((e, i) => {
    const row = ws.getRow(headerRow + 1 + i);
    const l = e.lineage;
    if (l === null) {
      row.values = [e.code, e.dataPoint ?? '', '', '', '', '', '', '', '', '', '', 'no lineage recorded'];
      return;
    }
    // series first/last timestamps bound the time range when the formula recorded none
    const firsts = l.series.map((s) => s.firstTs).filter((t): t is number => t !== null);
    const lasts = l.series.map((s) => s.lastTs).filter((t): t is number => t !== null);
    const from = l.timeRange?.from ?? iso(firsts.length > 0 ? Math.min(...firsts) : null);
    const to = l.timeRange?.to ?? iso(lasts.length > 0 ? Math.max(...lasts) : null);
    row.values = [
      e.code,
      e.dataPoint ?? '',
      cellText(l.formula),
      l.formulaVersion,
      l.devices.length,
      l.series.length,
      l.readings,
      from,
      to,
      cellText(
        l.manualInputs
          .map(
            (m) =>
              `${m.name} = ${m.value} ${m.unit} (${m.source}${m.effectiveFrom ? `, from ${m.effectiveFrom}` : ''})`,
          )
          .join('; '),
      ),
      cellText(
        Object.entries(l.registryCounts ?? {})
          .map(([k, v]) => `${k}: ${v}`)
          .join('; '),
      ),
      cellText((l.notes ?? []).join('; ')),
    ];
    for (const c of [3, 10, 12]) row.getCell(c).alignment = { wrapText: true, vertical: 'top' };
  });
}
