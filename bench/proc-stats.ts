import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

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

export function sampleProc(pid: number): ProcSample | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may contain spaces: split after the closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
    return { cpuSec: (utime + stime) / ticksPerSec, rssBytes: rssKb * 1024 };
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
