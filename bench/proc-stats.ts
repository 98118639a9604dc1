import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time and resident memory of a process, read from /proc (Linux). The runner reads them for the system
 * under test from outside, so the measurement costs that process nothing, and mosquitto (not Node) can be
 * measured the same way.
 */

let ticksPerSec = 100;
try {
  ticksPerSec = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  // getconf missing: 100 is the Linux default
}

export interface ProcSample {
  cpuSec: number;
  rssBytes: number;
}

/** utime and stime of a `stat` file of /proc (a process's, or one thread's under task/), in seconds. */
function timesOf(stat: string): { userSec: number; systemSec: number } {
  // Fields after the command name, which may contain spaces: split after the closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { userSec: Number(fields[11]) / ticksPerSec, systemSec: Number(fields[12]) / ticksPerSec };
}

function cpuSecOf(stat: string): number {
  const t = timesOf(stat);
  return t.userSec + t.systemSec;
}

export function sampleProc(pid: number): ProcSample | null {
  try {
    const cpuSec = cpuSecOf(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
    return { cpuSec, rssBytes: rssKb * 1024 };
  } catch {
    return null;
  }
}

/** Summed over the processes of a system under test (mosquitto + its subscriber). */
export function sampleAll(pids: readonly number[]): ProcSample {
  let cpuSec = 0;
  let rssBytes = 0;
  for (const pid of pids) {
    const s = sampleProc(pid);
    if (s === null) continue;
    cpuSec += s.cpuSec;
    rssBytes += s.rssBytes;
  }
  return { cpuSec, rssBytes };
}

export interface ThreadSample {
  tid: number;
  /** the thread's name (`comm`): Node's own threads are all "node", a thread may name itself */
  name: string;
  /** time on a core (schedstat, ns precision; utime + stime where schedstat is missing) */
  cpuSec: number;
  /** time runnable but waiting for a core (schedstat; NaN where it is missing) */
  waitSec: number;
  /** of the CPU time, the part in the kernel (stime, in ticks): system calls, and on loopback the peer's TCP receive path */
  systemSec: number;
}

/** CPU time of each thread of a process (the main thread's tid is the pid); empty if it is gone. */
export function sampleThreads(pid: number): ThreadSample[] {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const out: ThreadSample[] = [];
  for (const tid of tids) {
    const dir = `/proc/${pid}/task/${tid}`;
    try {
      const name = readFileSync(`${dir}/comm`, 'utf8').trim();
      const times = timesOf(readFileSync(`${dir}/stat`, 'utf8'));
      let sched: number[] = [];
      try {
        sched = readFileSync(`${dir}/schedstat`, 'utf8').trim().split(' ').map(Number);
      } catch {
        // a kernel without schedstat: CPU in ticks, waiting unknown
      }
      const [onCpuNs, waitNs] = sched;
      out.push({
        tid: Number(tid),
        name,
        cpuSec: onCpuNs !== undefined ? onCpuNs / 1e9 : times.userSec + times.systemSec,
        waitSec: waitNs !== undefined ? waitNs / 1e9 : Number.NaN,
        systemSec: times.systemSec,
      });
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}
