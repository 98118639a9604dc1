import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WRITER_THREAD_NAME } from '../ingest/store/writer-thread-protocol.ts';
import {
  attributeProfile,
  busyUs,
  type CpuProfile,
  STAGES,
  type StageId,
  type StageTimes,
} from './cpu-stage-map.ts';
import type { ThreadSample } from './proc-stats.ts';

/**
 * The per-reading CPU breakdown of the platform's two threads: the V8 CPU profiles that
 * `node --cpu-prof` writes at exit (one per thread) cut to the measured window, attributed to stages
 * (cpu-stage-map.ts), and held against the threads' CPU time read from /proc over the same window.
 */

/**
 * How far the profile may be from the thread's CPU time and still count as accounting for it (the
 * profile's share, `coverage`, within 1 ± this).
 */
export const AGREEMENT_TOLERANCE = 0.15;

/** One thread over the window, µs per reading. */
export interface ThreadFigures {
  /** sampled busy time: every sample but idle (wall time, waiting for a core included) */
  sampledUs: number;
  /** CPU time from /proc (schedstat: on a core) */
  cpuUs: number;
  /** runnable but waiting for a core (/proc schedstat): sampled as busy, yet no CPU */
  waitUs: number;
  /** of cpuUs, in the kernel (stime) */
  systemUs: number;
  idleUs: number;
  /** CPU time the profile does not show: cpuUs minus the sampled busy time on a core */
  unseenUs: number;
  /** the share of cpuUs the profile accounts for */
  coverage: number;
}

export interface CpuBreakdown {
  qos: 0 | 1;
  /** offered readings/s */
  rate: number;
  windowMs: number;
  /** readings sent in the window and durable by the end of its drain: the divisor of every figure */
  readings: number;
  /** V8's sampling interval (µs) */
  sampleIntervalUs: number;
  /**
   * µs per reading by stage on each thread: on a core (`*CpuUs`: the samples less the thread's share of
   * waiting for a core) and as sampled (`*SampledUs`)
   */
  stages: Array<{
    stage: StageId;
    label: string;
    mainCpuUs: number;
    writerCpuUs: number;
    mainSampledUs: number;
    writerSampledUs: number;
  }>;
  main: ThreadFigures;
  writer: ThreadFigures;
  /** the process's other threads (V8's GC and compiler helpers, libuv's pool, the TypeScript loader), from /proc */
  otherThreadsCpuUs: number;
  /** the whole process from /proc: what the table adds up to */
  processCpuUs: number;
  /** each thread's coverage within 1 ± AGREEMENT_TOLERANCE */
  agreed: { main: boolean; writer: boolean };
}

export interface ThreadProfiles {
  main: CpuProfile;
  writer: CpuProfile;
}

/**
 * The main thread's and the series writer's profiles in a --cpu-prof-dir. Node names each
 * `CPU.<date>.<time>.<pid>.<threadId>.<seq>.cpuprofile`, thread id 0 being the main thread; the writer's
 * is the one that ran series-writer-thread (the other workers are the TypeScript loader's).
 */
export function readThreadProfiles(dir: string): ThreadProfiles {
  let main: CpuProfile | undefined;
  let writer: CpuProfile | undefined;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    const threadId = Number(file.split('.').at(-3));
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    if (threadId === 0) main = profile;
    else if (profile.nodes.some((n) => /\/series-writer-thread\.[cm]?[jt]s$/.test(n.callFrame.url)))
      writer = profile;
  }
  if (main === undefined || writer === undefined)
    throw new Error(`${dir}: no CPU profile of the ${main === undefined ? 'main' : 'series writer'} thread`);
  return { main, writer };
}

export interface ThreadCpu {
  /** on a core */
  cpuSec: number;
  /** runnable, waiting for a core */
  waitSec: number;
  /** of cpuSec, in the kernel */
  systemSec: number;
}

/** CPU and waiting time of the main thread (tid = pid) and of the writer (found by its name) between two samples. */
export function threadCpuDelta(
  pid: number,
  before: readonly ThreadSample[],
  after: readonly ThreadSample[],
): { main: ThreadCpu; writer: ThreadCpu } {
  const delta = (pick: (t: ThreadSample) => boolean): ThreadCpu => {
    const a = before.find(pick);
    const b = after.find(pick);
    if (a === undefined || b === undefined)
      return { cpuSec: Number.NaN, waitSec: Number.NaN, systemSec: Number.NaN };
    return {
      cpuSec: b.cpuSec - a.cpuSec,
      waitSec: b.waitSec - a.waitSec,
      systemSec: b.systemSec - a.systemSec,
    };
  };
  return {
    main: delta((t) => t.tid === pid),
    writer: delta((t) => t.name === WRITER_THREAD_NAME),
  };
}

/**
 * The sampler fires on wall time, so a thread that waits for a core (the load generator and the rest of
 * the machine share them) is sampled as busy: each thread's samples are scaled by its time on a core over
 * its time on a core or waiting for one (schedstat), assuming the waits fell on every stage alike. What
 * the thread spent on a core beyond that is CPU the profile does not show: V8 marks a thread idle while
 * its event loop polls, and the poll reads the sockets in native code (a bare net server reading 9 000
 * small writes a second here: 207 ms of CPU in 3 s, 29 ms of it sampled busy). Below it: time blocked
 * inside a call (fsync).
 */
export function buildBreakdown(a: {
  qos: 0 | 1;
  rate: number;
  windowMs: number;
  readings: number;
  sampleIntervalUs: number;
  profiles: ThreadProfiles;
  /** the window on the profiles' clock (process.hrtime, µs) */
  fromUs: number;
  toUs: number;
  cpu: { main: ThreadCpu; writer: ThreadCpu; processSec: number };
}): CpuBreakdown {
  const window = { fromUs: a.fromUs, toUs: a.toUs };
  const mainTimes = attributeProfile(a.profiles.main, window);
  const writerTimes = attributeProfile(a.profiles.writer, window);
  const per = (us: number) => us / a.readings;
  const thread = (t: StageTimes, c: ThreadCpu) => {
    const sampledUs = per(busyUs(t));
    const cpuUs = per(c.cpuSec * 1e6);
    const waitUs = per(c.waitSec * 1e6);
    // without schedstat the waits are unknown: the CPU time is shared out over the samples as they are
    const onCore = Number.isFinite(waitUs) ? cpuUs / (cpuUs + waitUs) : cpuUs / sampledUs;
    const figures: ThreadFigures = {
      sampledUs,
      cpuUs,
      waitUs,
      systemUs: per(c.systemSec * 1e6),
      idleUs: per(t.idle),
      unseenUs: cpuUs - sampledUs * onCore,
      coverage: (sampledUs * onCore) / cpuUs,
    };
    return { figures, onCore };
  };
  const main = thread(mainTimes, a.cpu.main);
  const writer = thread(writerTimes, a.cpu.writer);
  const ok = (f: ThreadFigures) => Math.abs(f.coverage - 1) <= AGREEMENT_TOLERANCE;
  const processCpuUs = per(a.cpu.processSec * 1e6);
  return {
    qos: a.qos,
    rate: a.rate,
    windowMs: a.windowMs,
    readings: a.readings,
    sampleIntervalUs: a.sampleIntervalUs,
    stages: STAGES.map(({ id, label }) => ({
      stage: id,
      label,
      mainCpuUs: per(mainTimes[id]) * main.onCore,
      writerCpuUs: per(writerTimes[id]) * writer.onCore,
      mainSampledUs: per(mainTimes[id]),
      writerSampledUs: per(writerTimes[id]),
    })),
    main: main.figures,
    writer: writer.figures,
    otherThreadsCpuUs: processCpuUs - main.figures.cpuUs - writer.figures.cpuUs,
    processCpuUs,
    agreed: { main: ok(main.figures), writer: ok(writer.figures) },
  };
}

const us = (x: number): string =>
  !Number.isFinite(x) ? '–' : Math.abs(x) < 0.05 ? '0' : x.toFixed(1).replace('-', '−');

/** The markdown table the run prints (and the README quotes). */
export function renderBreakdown(b: CpuBreakdown): string {
  const out: string[] = [];
  out.push(
    `µs CPU per reading by stage, main / writer thread: citymetrics QoS ${b.qos} at ${b.rate.toLocaleString('en-US')} readings/s, ` +
      `${(b.windowMs / 1000).toFixed(0)} s window, ${b.readings.toLocaleString('en-US')} readings. A step of its own ` +
      `under V8's CPU profiler (a sample every ${b.sampleIntervalUs} µs on each thread): profiling slows the ` +
      'process, so no throughput or latency figure comes from this step. Stages: the samples less the ' +
      "thread's share of waiting for a core.",
  );
  out.push('');
  out.push('| stage | main thread | writer thread | both |');
  out.push('| --- | ---: | ---: | ---: |');
  const row = (label: string, m: number, w: number) =>
    out.push(`| ${label} | ${us(m)} | ${us(w)} | ${us(m + w)} |`);
  for (const s of b.stages) if (s.mainCpuUs + s.writerCpuUs >= 0.05) row(s.label, s.mainCpuUs, s.writerCpuUs);
  row(
    "not in the profile: the event loop's poll, native socket reads (V8 counts it idle)",
    b.main.unseenUs,
    b.writer.unseenUs,
  );
  out.push(
    `| other threads (V8's GC and compiler helpers, libuv's pool, the TypeScript loader) | | | ${us(b.otherThreadsCpuUs)} |`,
  );
  out.push(
    `| **total: the process's CPU time (/proc)** | **${us(b.main.cpuUs)}** | **${us(b.writer.cpuUs)}** | **${us(b.processCpuUs)}** |`,
  );
  out.push(`| of which in the kernel (system time) | ${us(b.main.systemUs)} | ${us(b.writer.systemUs)} | |`);
  out.push(
    `| not CPU: waiting for a core (/proc schedstat) | ${us(b.main.waitUs)} | ${us(b.writer.waitUs)} | |`,
  );
  out.push(
    `| not CPU: sampled busy time as sampled, waits included | ${us(b.main.sampledUs)} | ${us(b.writer.sampledUs)} | |`,
  );
  out.push('');
  const pct = (r: number) => (Number.isFinite(r) ? `${(r * 100).toFixed(0)} %` : '–');
  const verdict = (ok: boolean) => (ok ? 'within' : 'OUTSIDE');
  out.push(
    `The profile accounts for ${pct(b.main.coverage)} of the main thread's CPU time ` +
      `(${verdict(b.agreed.main)} ±${AGREEMENT_TOLERANCE * 100} %; what it misses is mostly socket reads in the poll) ` +
      `and ${pct(b.writer.coverage)} of the writer's (${verdict(b.agreed.writer)} ±${AGREEMENT_TOLERANCE * 100} %).`,
  );
  return out.join('\n');
}
