import type { SimulationProgress, SimulationReport } from './simulation.ts';

const n = (v: number): string => Math.round(v).toLocaleString('en-US');

/** A rate as it is: 0.524 readings/s is not 1, and not 0 either. */
export const formatRate = (v: number): string =>
  v >= 100
    ? n(v)
    : v >= 10
      ? v.toFixed(1)
      : v >= 0.001 || v === 0
        ? String(Number(v.toFixed(3)))
        : v.toExponential(2);

const listOf = (counts: Readonly<Record<string, number>>): string => {
  const entries = Object.entries(counts).filter(([, v]) => v > 0);
  return entries.length === 0 ? 'none' : entries.map(([k, v]) => `${k} ${n(v)}`).join(', ');
};

/** One line for a live progress display or a periodic log. */
export function formatProgress(p: SimulationProgress): string {
  const refused = Object.values(p.refused).reduce((s, v) => s + v, 0);
  return [
    `${n(p.elapsedMs / 1000)}s`,
    `devices ${n(p.connected)}/${n(p.devices)} online`,
    `${formatRate(p.currentRatePerSec)} readings/s`,
    `published ${n(p.published)}`,
    `acked ${n(p.acknowledged)}`,
    `refused ${n(refused)}`,
    `buffered ${n(p.buffered)}`,
    `dropped ${n(p.dropped)}`,
  ].join(' · ');
}

/** The final report as an aligned two-column table. */
export function formatReport(r: SimulationReport): string {
  const refusedCodes = new Set([...Object.keys(r.refused), ...Object.keys(r.expectedRefusals)]);
  const refusedRows = [...refusedCodes].sort().map((code): [string, string] => {
    const expected = r.expectedRefusals[code as keyof typeof r.expectedRefusals];
    return [
      `  ${code}`,
      `${n(r.refused[code] ?? 0)}${expected !== undefined ? ` (faults injected: ${n(expected)})` : ''}`,
    ];
  });
  const rows: Array<[string, string]> = [
    ['duration', `${(r.durationMs / 1000).toFixed(1)} s`],
    [
      'devices',
      `${n(r.devices)} (connected at the end ${n(r.connected)}, credentials refused ${n(r.authRefused)})`,
    ],
    ['target rate', `${formatRate(r.targetRatePerSec)} readings/s`],
    ['readings made', n(r.generated)],
    ['published', `${n(r.published)} readings in ${n(r.messages)} messages`],
    ['acknowledged', `${n(r.acknowledged)} (QoS 1 PUBACK)`],
    ['publish errors', n(r.publishErrors)],
    [
      'offline buffer',
      `${n(r.bufferedTotal)} buffered, ${n(r.dropped)} dropped, ${n(r.buffered)} unsent at stop`,
    ],
    ['back-filled', `${n(r.backfilled)} readings in ${n(r.backfillMessages)} batches`],
    ['connections', `${n(r.connects)} (connection errors ${n(r.connectErrors)})`],
    ['events', listOf(r.events)],
    ['faults injected', listOf(r.faults)],
    ['refused by code', refusedRows.length === 0 ? 'none' : ''],
    ...refusedRows,
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`.trimEnd()).join('\n');
}
