/**
 * The cluster scenario's figures and their table: the same QoS 1 load through a cluster of separate role
 * processes and through the single process, measured in the same run, with the CPU each kind of process
 * spent per stored reading (what sizing a deployment starts from).
 */

export interface ClusterStep {
  /** offered readings/s (the generator's rate) */
  offered: number;
  windowMs: number;
  ackedPerSec: number;
  storedPerSec: number;
  /** every acknowledged reading stored by the end of the drain */
  allStored: boolean;
  /** acknowledged ≥ 98 % of the offered load, all acknowledged and stored within the grace, nobody cut off */
  sustained: boolean;
  reasons: string[];
  pubackP50Ms: number;
  pubackP99Ms: number;
}

export interface ProcessGroupCpu {
  /** edge, writer, api, kpi, nats, postgres, haproxy; `single` for the single process */
  group: string;
  processes: number;
  /** CPU time (user + system) per stored reading, µs */
  cpuUsPerReading: number;
  /** CPU time as a share of one core over the step, % */
  cpuPercent: number;
}

export interface SystemFigures {
  /** the highest offered rate sustained (rates double from the start rate) */
  maxSustained: ClusterStep | null;
  /** at half the cluster's maximum (half the start rate if it sustained none), the same rate for both */
  moderate: ClusterStep | null;
  steps: ClusterStep[];
  /** over the step at the maximum sustained rate (the first step if none was sustained) */
  cpu: ProcessGroupCpu[];
}

export interface ClusterComparison {
  counts: Record<string, number>;
  single: SystemFigures;
  cluster: SystemFigures;
  /** cluster / single, maximum sustained readings/s */
  throughputRatio: number | null;
}

const n0 = (x: number): string => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–');
const ms = (x: number): string =>
  !Number.isFinite(x) ? '–' : x < 10 ? x.toFixed(1) : Math.round(x).toString();

export function renderCluster(c: ClusterComparison): string {
  const out: string[] = [];
  const counts = Object.entries(c.counts)
    .map(([role, n]) => `${n} ${role}`)
    .join(', ');
  out.push(`Cluster (${counts}, through haproxy) vs the single process, QoS 1, the same load and run:`);
  out.push('');
  out.push('| system | step | offered/s | acknowledged/s | stored/s | all stored | p50 / p99 PUBACK (ms) |');
  out.push('| --- | --- | ---: | ---: | ---: | --- | ---: |');
  const row = (name: string, label: string, s: ClusterStep | null) => {
    if (s === null) return;
    out.push(
      `| ${name} | ${label} | ${n0(s.offered)} | ${n0(s.ackedPerSec)} | ${n0(s.storedPerSec)} | ${s.sustained ? 'yes' : `no: ${s.reasons.join('; ')}`} | ` +
        `${ms(s.pubackP50Ms)} / ${ms(s.pubackP99Ms)} |`,
    );
  };
  for (const [name, f] of [
    ['single process', c.single],
    ['cluster', c.cluster],
  ] as const) {
    row(name, 'maximum sustained', f.maxSustained);
    const failed = f.steps.find((x) => !x.sustained);
    row(name, 'first failed', failed ?? null);
    row(name, 'latency', f.moderate);
  }
  out.push('');
  out.push(
    `Ratio cluster / single process (maximum sustained readings/s): ${c.throughputRatio === null ? '– (one of them sustained no step)' : `${c.throughputRatio.toFixed(2)} ×`}.`,
  );
  out.push('');
  out.push('| process group | processes | CPU µs / stored reading | CPU % of one core |');
  out.push('| --- | ---: | ---: | ---: |');
  const cpuRows = [...c.single.cpu.map((g) => ({ ...g, group: `single: ${g.group}` })), ...c.cluster.cpu];
  for (const g of cpuRows)
    out.push(`| ${g.group} | ${g.processes} | ${n0(g.cpuUsPerReading)} | ${n0(g.cpuPercent)} |`);
  const total = c.cluster.cpu.reduce((s, g) => s + g.cpuUsPerReading, 0);
  out.push(`| cluster total | | ${n0(total)} | |`);
  out.push('');
  out.push(
    'CPU is read from /proc (utime + stime) of each process over the step at the maximum sustained rate (the first step if none was), divided by the readings stored in it; PostgreSQL includes its backends.',
  );
  return out.join('\n');
}
