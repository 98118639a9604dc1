import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildBreakdown, type CpuBreakdown, readThreadProfiles, threadCpuDelta } from './cpu-breakdown.ts';
import { LatencyHistogram } from './histogram.ts';
import { type Child, forkChild } from './ipc.ts';
import { LiveProbe } from './live-probe.ts';
import type { AckStats, DeviceLogin, RunResult } from './load-generator.ts';
import { VALUES_PER_READING } from './payload.ts';
import { sampleAll, sampleProc, sampleThreads, type ThreadSample } from './proc-stats.ts';
import { judgeStep, maxSustained, nextRate, type StepJudgement, type StepPlan } from './stepping.ts';
import type { StartArgs, StartedTarget, TargetReport } from './target-process.ts';
import type { TargetKind } from './targets/target.ts';

export interface ThroughputSettings {
  /** restart the system under test in a new process after a failed step (else a new instance in the same) */
  freshProcessPerRestart: boolean;
  /** unmeasured run after each (re)start of the system under test */
  primeMs: number;
  warmupMs: number;
  windowMs: number;
  drainMs: number;
  latencyWindowMs: number;
  /** citymetrics: the window of the step under the CPU profiler (0: no such step) */
  profileWindowMs: number;
  plan: StepPlan;
  devices: number;
  maxInflight: number;
  seed: number;
  workDir: string;
}

export interface StepRecord extends StepJudgement {
  rate: number;
  sent: number;
  blocked: number;
  behind: number;
  acked: number;
  deliveredEarly: number;
  deliveredFinal: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
}

export interface LatencyRecord {
  rate: number;
  delivered: number;
  /** publish → consumer (for citymetrics: durable in the log) */
  p50Ms: number;
  p99Ms: number;
  /** QoS 1: publish → PUBACK at the generator */
  pubackP50Ms: number | null;
  pubackP99Ms: number | null;
  /** citymetrics: publish → live page (socket.io push) */
  liveP50Ms: number | null;
  liveP99Ms: number | null;
  cpuPercent: number;
  rssMeanMb: number;
  rssPeakMb: number;
}

export interface ThroughputResult {
  kind: TargetKind;
  qos: 0 | 1;
  maxReadingsPerSec: number;
  maxValuesPerSec: number;
  generatorLimited: boolean;
  steps: StepRecord[];
  latency: LatencyRecord | null;
  /**
   * citymetrics: CPU per reading by stage and thread, from a profiled step at half the maximum (absent in
   * results from before it was measured)
   */
  cpuStages?: CpuBreakdown | null;
}

/** V8's default; finer sampling would slow the profiled process further. */
const PROFILE_INTERVAL_US = 1_000;
const PROFILE_PRIME_MS = 2_000;
const hrtimeUs = (): number => Number(process.hrtime.bigint() / 1000n);

const sleepUntil = (t: number) => new Promise((r) => setTimeout(r, Math.max(0, t - Date.now())));
const q = (h: LatencyHistogram, p: number) => h.quantile(p);

/** One system under test at one QoS: step the rate up, bisect, then measure latency at half the maximum. */
export async function runThroughput(
  kind: TargetKind,
  qos: 0 | 1,
  s: ThroughputSettings,
  setup: { logins?: DeviceLogin[]; registryTemplate?: string },
  log: (line: string) => void,
  /** the load generator process, shared by all scenarios (forked here if not given) */
  sharedGen?: Child,
  /** quick runs: one target process per system for both QoS levels (each start builds a new instance) */
  sharedTarget?: Child,
): Promise<ThroughputResult> {
  const gen = sharedGen ?? forkChild('./load-generator.ts');
  let target: Child | null = null;
  let started: StartedTarget | null = null;

  /**
   * Starts the system under test; `newProcess` also replaces its process (else the same process builds a new
   * instance, which saves a second of process start-up in quick runs).
   */
  const startTarget = async (newProcess: boolean) => {
    if (target !== null) {
      await gen.call('disconnect');
      await target.call('stop').catch(() => {});
      if (newProcess && sharedTarget === undefined) {
        await target.close();
        target = null;
      }
    }
    await attach(target ?? sharedTarget ?? forkChild('./target-process.ts', ['--expose-gc']));
  };

  /** Builds a system under test in `child`, connects the generator and primes both for `primeMs`. */
  const attach = async (child: Child, primeMs = s.primeMs) => {
    target = child;
    const args: StartArgs = {
      kind,
      qos,
      devices: s.devices,
      dataDir: mkdtempSync(join(s.workDir, `${kind}-q${qos}-`)),
      ...(setup.registryTemplate !== undefined ? { registryTemplate: setup.registryTemplate } : {}),
      ...(setup.logins !== undefined ? { logins: setup.logins } : {}),
    };
    started = await child.call<StartedTarget>('start', args);
    await gen.call('connect', {
      host: started.host,
      port: started.port,
      devices: started.devices,
      qos,
      seed: s.seed,
    });
    // A fresh process runs cold code (the JIT has not compiled its hot path): an unmeasured run at the start
    // rate warms both sides before the first step.
    const startAt = Date.now() + 50;
    await gen.call<RunResult>('run', {
      rate: s.plan.startRate,
      startAt,
      t0: startAt,
      t1: startAt + primeMs,
      maxInflight: s.maxInflight,
    });
    await settle();
  };

  /** Waits (at most drainMs) until the target has taken in everything the generator sent. */
  const settle = async () => {
    const until = Date.now() + s.drainMs;
    const { sentTotal } = await gen.call<{ sentTotal: number }>('totals');
    while (Date.now() < until) {
      const [acks, report] = await Promise.all([
        gen.call<AckStats>('ackStats'),
        target!.call<TargetReport>('report'),
      ]);
      if (acks.inflight === 0 && report.totalMessages >= sentTotal && report.storeBacklog === 0) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  /** One step: warm-up, measured window, drain; returns the observation and the window's latencies. */
  const step = async (rate: number, windowMs: number, live: LiveProbe | null) => {
    const t = target!;
    const pids = started!.pids;
    // Per-thread CPU and the profiles' clock at both ends of the window (for the CPU breakdown).
    const ends: Array<{ us: number; threads: ThreadSample[]; processSec: number }> = [];
    const mark = () =>
      ends.push({
        us: hrtimeUs(),
        threads: sampleThreads(pids[0]!),
        processSec: sampleProc(pids[0]!)?.cpuSec ?? Number.NaN,
      });
    // The window is set before the first message is sent; a target still busy with an earlier backlog may
    // answer late, so the plan is remade until the answer comes before the start.
    let startAt = 0;
    for (let attempt = 0; attempt < 5 && Date.now() >= startAt; attempt++) {
      startAt = Date.now() + 100 * 2 ** attempt;
      await t.call('window', { t0: startAt + s.warmupMs, t1: startAt + s.warmupMs + windowMs });
    }
    const t0 = startAt + s.warmupMs;
    const t1 = t0 + windowMs;
    live?.setWindow(t0, t1);
    const rss: number[] = [];
    let cpuStart = 0;
    const sampler = setInterval(() => {
      const now = Date.now();
      if (now >= t0 && now <= t1) rss.push(sampleAll(pids).rssBytes);
    }, 100);
    const cpuAt0 = sleepUntil(t0).then(() => {
      cpuStart = sampleAll(pids).cpuSec;
      mark();
    });
    // The sampler stops even when the run rejects: a live interval would keep the runner from exiting.
    let run: RunResult;
    let cpuEnd: number;
    let wallSec: number;
    try {
      run = await gen.call<RunResult>('run', { rate, startAt, t0, t1, maxInflight: s.maxInflight });
      await cpuAt0;
      cpuEnd = sampleAll(pids).cpuSec;
      mark();
      wallSec = (Math.max(Date.now(), t1) - t0) / 1000;
    } finally {
      clearInterval(sampler);
    }
    // The target stamps arrival times itself: its reply may queue behind a backlog of socket data.
    let final = await t.call<TargetReport>('report');
    let acks = await gen.call<AckStats>('ackStats');
    const drainUntil = Date.now() + s.drainMs;
    while (Date.now() < drainUntil) {
      final = await t.call<TargetReport>('report');
      acks = await gen.call<AckStats>('ackStats');
      const expected = qos === 1 ? acks.acked : run.sent;
      if (final.messages >= expected && acks.inflight === 0 && final.storeBacklog === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const hist = LatencyHistogram.fromWire(final.latency);
    const judgement = judgeStep({
      targetRate: rate,
      windowMs,
      qos,
      sent: run.sent,
      generatorBehind: run.behind,
      blocked: run.blocked,
      acked: acks.acked,
      deliveredEarly: final.onTime,
      deliveredFinal: final.messages,
      latencyP50Q2: LatencyHistogram.fromWire(final.latencyQ2).quantile(0.5),
      latencyP50Q4: LatencyHistogram.fromWire(final.latencyQ4).quantile(0.5),
      ...(kind === 'citymetrics' ? { storeBacklogFinal: final.storeBacklog } : {}),
    });
    const record: StepRecord = {
      rate,
      ...judgement,
      sent: run.sent,
      blocked: run.blocked,
      behind: run.behind,
      acked: acks.acked,
      deliveredEarly: final.onTime,
      deliveredFinal: final.messages,
      latencyP50Ms: q(hist, 0.5),
      latencyP99Ms: q(hist, 0.99),
    };
    const cpuPercent = (100 * (cpuEnd - cpuStart)) / wallSec;
    return { record, hist, puback: LatencyHistogram.fromWire(acks.puback), cpuPercent, rss, ends };
  };

  /**
   * One step at `rate` on a process of its own under V8's CPU profiler (every thread writes its profile
   * when the process exits), attributed to stages per reading. Never a throughput or latency step: the
   * profiler slows the process.
   */
  const profiledStep = async (rate: number): Promise<CpuBreakdown> => {
    if (target !== null) {
      await gen.call('disconnect');
      await target.call('stop').catch(() => {});
      if (target !== sharedTarget) await target.close();
      target = null;
    }
    const dir = mkdtempSync(join(s.workDir, 'cpu-prof-'));
    try {
      const profiled = forkChild('./target-process.ts', [
        '--cpu-prof',
        `--cpu-prof-dir=${dir}`,
        `--cpu-prof-interval=${PROFILE_INTERVAL_US}`,
      ]);
      // Primed for longer: code the JIT has not compiled yet would count as the stages' cost.
      await attach(profiled, Math.max(s.primeMs, PROFILE_PRIME_MS));
      const r = await step(rate, s.profileWindowMs, null);
      const pid = started!.pids[0]!;
      await gen.call('disconnect');
      await profiled.call('stop');
      await profiled.close();
      target = null;
      const [a, b] = r.ends;
      if (a === undefined || b === undefined) throw new Error('profiled step: window not sampled');
      return buildBreakdown({
        qos,
        rate,
        windowMs: s.profileWindowMs,
        readings: r.record.deliveredFinal,
        sampleIntervalUs: PROFILE_INTERVAL_US,
        profiles: readThreadProfiles(dir),
        fromUs: a.us,
        toUs: b.us,
        cpu: { ...threadCpuDelta(pid, a.threads, b.threads), processSec: b.processSec - a.processSec },
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  try {
    await startTarget(true);
    const history: StepRecord[] = [];
    for (let rate = nextRate(history, s.plan); rate !== null; rate = nextRate(history, s.plan)) {
      const { record } = await step(rate, s.windowMs, null);
      history.push(record);
      log(
        `  ${kind} QoS ${qos} @ ${rate}/s: ${record.verdict}` +
          (record.reasons.length > 0 ? ` (${record.reasons.join('; ')})` : '') +
          ` p50 ${record.latencyP50Ms.toFixed(1)} ms`,
      );
      if (record.verdict !== 'ok') await startTarget(s.freshProcessPerRestart);
    }
    const max = maxSustained(history);
    let latency: LatencyRecord | null = null;
    // Latency at half the maximum, on a system that has not failed a step (a failure can leave it degraded).
    const half = Math.round(max.rate / 2);
    if (half > 0) {
      // After a failed or generator-limited step the target was already restarted. Full runs measure CPU and
      // RSS on a process of its own; quick runs reuse the process.
      if (s.freshProcessPerRestart && history.at(-1)?.verdict === 'ok') await startTarget(true);
      const http = (started as StartedTarget | null)?.http;
      const live =
        http !== undefined ? await LiveProbe.connect(http.url, http.token).catch(() => null) : null;
      let r: Awaited<ReturnType<typeof step>>;
      let liveHist: LatencyHistogram | null;
      try {
        r = await step(half, s.latencyWindowMs, live);
        liveHist = live?.histogram() ?? null;
      } finally {
        live?.close();
      }
      latency = {
        rate: half,
        delivered: r.record.deliveredFinal,
        p50Ms: q(r.hist, 0.5),
        p99Ms: q(r.hist, 0.99),
        pubackP50Ms: qos === 1 ? q(r.puback, 0.5) : null,
        pubackP99Ms: qos === 1 ? q(r.puback, 0.99) : null,
        liveP50Ms: liveHist !== null && liveHist.count > 0 ? q(liveHist, 0.5) : null,
        liveP99Ms: liveHist !== null && liveHist.count > 0 ? q(liveHist, 0.99) : null,
        cpuPercent: r.cpuPercent,
        rssMeanMb: r.rss.length > 0 ? r.rss.reduce((a, b) => a + b, 0) / r.rss.length / 2 ** 20 : Number.NaN,
        rssPeakMb: r.rss.length > 0 ? Math.max(...r.rss) / 2 ** 20 : Number.NaN,
      };
      log(
        `  ${kind} QoS ${qos} latency @ ${half}/s: p50 ${latency.p50Ms.toFixed(1)} ms, p99 ${latency.p99Ms.toFixed(1)} ms` +
          (r.record.verdict === 'ok' ? '' : ` (step not clean: ${r.record.reasons.join('; ')})`),
      );
    }
    let cpuStages: CpuBreakdown | null = null;
    if (kind === 'citymetrics' && half > 0 && s.profileWindowMs > 0) {
      log(`  ${kind} QoS ${qos} CPU profile @ ${half}/s (own process, under the profiler)`);
      cpuStages = await profiledStep(half);
    }
    return {
      kind,
      qos,
      maxReadingsPerSec: max.rate,
      maxValuesPerSec: max.rate * VALUES_PER_READING,
      generatorLimited: max.generatorLimited,
      steps: history,
      latency,
      cpuStages,
    };
  } finally {
    const t = target as Child | null;
    if (sharedGen === undefined) await gen.close();
    else await gen.call('disconnect').catch(() => {});
    if (t !== null) {
      await t.call('stop').catch(() => {});
      if (t !== sharedTarget) await t.close();
    }
  }
}
