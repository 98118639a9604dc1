import { type ClusterComparison, renderCluster } from './cluster-report.ts';
import type { ConnectionsResult } from './connections.ts';
import { renderBreakdown } from './cpu-breakdown.ts';
import { type DiskProbe, describeDisk } from './disk-probe.ts';
import type { PeriodsResult } from './periods.ts';
import type { ThroughputResult } from './throughput.ts';

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGb: number;
  node: string;
  platform: string;
  command: string;
  /** the data directory's disk, measured at start (absent in results from before it was measured) */
  disk?: DiskProbe;
}

export interface BenchResults {
  startedAt: string;
  durationSec: number;
  mode: 'full' | 'quick';
  machine: Machine;
  settings: Record<string, unknown>;
  sustainedDefinition: string;
  throughput: ThroughputResult[];
  skipped: Array<{ scenario: string; reason: string }>;
  connections: ConnectionsResult[];
  periods: PeriodsResult | null;
  /** `--cluster`: the cluster beside the single process (absent in older results) */
  cluster?: ClusterComparison | null;
  ratios: Ratio[];
  targets: TargetCheck[];
}

export interface Ratio {
  name: string;
  qos: 0 | 1;
  value: number | null;
}
export interface TargetCheck {
  name: string;
  goal: string;
  measured: string;
  met: boolean | null;
}

const LABEL: Record<string, string> = {
  aedes: '1. bare aedes (counts only)',
  mosquitto: '2. mosquitto + Node subscriber',
  citymetrics: '3. citymetrics (full pipeline)',
  cluster: '3c. citymetrics cluster vs single process',
};

const n0 = (x: number | null | undefined): string =>
  x === null || x === undefined || !Number.isFinite(x) ? '–' : Math.round(x).toLocaleString('en-US');
const ms = (x: number | null | undefined): string =>
  x === null || x === undefined || !Number.isFinite(x)
    ? '–'
    : x < 10
      ? x.toFixed(1)
      : Math.round(x).toString();

const find = (rs: readonly ThroughputResult[], kind: string, qos: 0 | 1) =>
  rs.find((r) => r.kind === kind && r.qos === qos);

/** Ratios and target checks from the throughput, latency and connection figures (the issue's targets). */
export function evaluate(
  rs: readonly ThroughputResult[],
  conns: readonly ConnectionsResult[],
): { ratios: Ratio[]; targets: TargetCheck[] } {
  const ratio = (qos: 0 | 1, base: string): number | null => {
    const cm = find(rs, 'citymetrics', qos);
    const b = find(rs, base, qos);
    return cm !== undefined && b !== undefined && b.maxReadingsPerSec > 0
      ? cm.maxReadingsPerSec / b.maxReadingsPerSec
      : null;
  };
  const ratios: Ratio[] = [];
  for (const qos of [0, 1] as const) {
    ratios.push({ name: 'citymetrics / bare aedes', qos, value: ratio(qos, 'aedes') });
    ratios.push({ name: 'citymetrics / mosquitto baseline', qos, value: ratio(qos, 'mosquitto') });
  }
  const r = (name: string, qos: 0 | 1) => ratios.find((x) => x.name === name && x.qos === qos)?.value ?? null;
  const check = (
    name: string,
    goal: string,
    value: number | null,
    ok: (v: number) => boolean,
    fmt: (v: number) => string,
  ) => ({
    name,
    goal,
    measured: value === null ? 'not measured' : fmt(value),
    met: value === null ? null : ok(value),
  });
  const x = (v: number) => `${v.toFixed(2)} ×`;
  const cmConn = conns.find((c) => c.kind === 'citymetrics');
  const worstConn = cmConn?.points.length
    ? Math.max(...cmConn.points.map((p) => p.bytesPerConnection))
    : null;
  const p99s = [0, 1].map((q) => find(rs, 'citymetrics', q as 0 | 1)?.latency?.p99Ms ?? null);
  const targets: TargetCheck[] = [
    check('QoS 0 vs bare aedes', '≥ 0.75 ×', r('citymetrics / bare aedes', 0), (v) => v >= 0.75, x),
    check(
      'QoS 0 vs mosquitto baseline',
      '≥ 1.0 ×',
      r('citymetrics / mosquitto baseline', 0),
      (v) => v >= 1,
      x,
    ),
    check('QoS 1 vs bare aedes QoS 1', '≥ 0.6 ×', r('citymetrics / bare aedes', 1), (v) => v >= 0.6, x),
    check(
      'p99 publish→stored, QoS 0, half max rate',
      '≤ 50 ms',
      p99s[0] ?? null,
      (v) => v <= 50,
      (v) => `${ms(v)} ms`,
    ),
    check(
      'p99 publish→stored, QoS 1, half max rate',
      '≤ 50 ms',
      p99s[1] ?? null,
      (v) => v <= 50,
      (v) => `${ms(v)} ms`,
    ),
    check(
      'RSS per idle connection (worst measured)',
      '≤ 20 KB',
      worstConn,
      (v) => v <= 20 * 1024,
      (v) => `${(v / 1024).toFixed(1)} KB`,
    ),
  ];
  return { ratios, targets };
}

/** The markdown printed at the end of a run (and kept in the JSON's directory README on request). */
export function renderMarkdown(res: BenchResults): string {
  const m = res.machine;
  const out: string[] = [];
  out.push(`## citymetrics benchmark (${res.mode}) — ${res.startedAt}`);
  out.push('');
  out.push(
    `Machine: ${m.cpus} cores (${m.cpuModel}), ${m.memoryGb.toFixed(1)} GB RAM, Node ${m.node}, ${m.platform}. ` +
      `Command: \`${m.command}\`. Took ${res.durationSec.toFixed(0)} s.`,
  );
  if (m.disk !== undefined) out.push(`Disk: ${describeDisk(m.disk)}.`);
  out.push(
    `Load: ${res.settings.devices} publishing connections (raw MQTT over loopback, one child process), ` +
      `${res.settings.payloadBytes}-byte air-quality readings of ${res.settings.valuesPerReading} values, seed ${res.settings.seed}; ` +
      `each step ${res.settings.warmupMs} ms warm-up + ${res.settings.windowMs} ms measured.`,
  );
  out.push('');
  out.push(
    '| scenario | QoS | max sustained readings/s | values/s | latency at | p50 / p99 publish→consumer (ms) | p50 / p99 PUBACK (ms) | p50 / p99 live page (ms) | CPU % | RSS MB (mean / peak) | first failed step |',
  );
  out.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const t of res.throughput) {
    const l = t.latency;
    const fail = t.steps.find((s) => s.verdict !== 'ok');
    const failText =
      fail === undefined ? 'none up to the maximum rate' : `${n0(fail.rate)}/s: ${fail.reasons.join('; ')}`;
    out.push(
      `| ${LABEL[t.kind] ?? t.kind} | ${t.qos} | ${t.generatorLimited ? '≥ ' : ''}${n0(t.maxReadingsPerSec)} | ${n0(t.maxValuesPerSec)} | ` +
        `${l ? `${n0(l.rate)}/s` : '–'} | ${l ? `${ms(l.p50Ms)} / ${ms(l.p99Ms)}` : '–'} | ` +
        `${l && l.pubackP50Ms !== null ? `${ms(l.pubackP50Ms)} / ${ms(l.pubackP99Ms)}` : '–'} | ` +
        `${l && l.liveP50Ms !== null ? `${ms(l.liveP50Ms)} / ${ms(l.liveP99Ms)}` : '–'} | ` +
        `${l ? n0(l.cpuPercent) : '–'} | ${l ? `${n0(l.rssMeanMb)} / ${n0(l.rssPeakMb)}` : '–'} | ${failText} |`,
    );
  }
  for (const s of res.skipped)
    out.push(`| ${LABEL[s.scenario] ?? s.scenario} | – | skipped: ${s.reason} | | | | | | | | |`);
  out.push('');
  out.push(
    '"≥" marks a ceiling set by the load generator, not by the system under test. For citymetrics the consumer',
  );
  out.push(
    "is the platform's 'readings' event: the values are durable in the log (a QoS 1 PUBACK may go out).",
  );
  out.push(
    'Latencies have 1 ms resolution (integer epoch-ms timestamps), except PUBACK (measured at the generator).',
  );
  out.push('');
  for (const t of res.throughput) {
    if (t.cpuStages == null) continue;
    out.push(renderBreakdown(t.cpuStages));
    out.push('');
  }
  out.push('| ratio | QoS 0 | QoS 1 |');
  out.push('| --- | ---: | ---: |');
  for (const name of ['citymetrics / bare aedes', 'citymetrics / mosquitto baseline']) {
    const v = (q: 0 | 1) => res.ratios.find((r) => r.name === name && r.qos === q)?.value ?? null;
    const f = (x: number | null) => (x === null ? '–' : `${x.toFixed(2)} ×`);
    out.push(`| ${name} | ${f(v(0))} | ${f(v(1))} |`);
  }
  out.push('');
  if (res.connections.length > 0) {
    out.push(
      '| idle connections | requested | connected | RSS before → after (MB) | per connection | note |',
    );
    out.push('| --- | ---: | ---: | ---: | ---: | --- |');
    for (const c of res.connections) {
      for (const p of c.points) {
        out.push(
          `| ${c.kind} | ${n0(p.requested)} | ${n0(p.connected)} | ${n0(p.baselineMb)} → ${n0(p.rssMb)} | ` +
            `${(p.bytesPerConnection / 1024).toFixed(1)} KB | ${p.note ?? ''} |`,
        );
      }
    }
    out.push('');
  }
  if (res.cluster !== undefined && res.cluster !== null) {
    out.push(renderCluster(res.cluster));
    out.push('');
  }
  if (res.periods !== null) {
    out.push(
      `Periods (close a month; recompute all KPIs; 1 000 devices, a year of roll-ups): ${res.periods.status}.`,
    );
    out.push('');
  }
  out.push('| target | goal | measured | met |');
  out.push('| --- | --- | --- | --- |');
  for (const t of res.targets)
    out.push(`| ${t.name} | ${t.goal} | ${t.measured} | ${t.met === null ? '–' : t.met ? 'yes' : 'no'} |`);
  out.push('');
  out.push('```');
  out.push(res.sustainedDefinition);
  out.push('```');
  return out.join('\n');
}
