import { closeSync, fsyncSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

/**
 * What the data directory's disk costs, measured before anything else runs: a QoS 1 PUBACK waits for a
 * group commit (an fsync), so the same code is an order of magnitude apart on a laptop's NVMe, a cloud
 * volume and tmpfs. A result that does not say which it ran on cannot be compared with another.
 */

export interface DiskProbe {
  dir: string;
  /** small write + fsync pairs timed */
  fsyncs: number;
  /** median and p99 of one 512-byte write followed by fsync, µs */
  fsyncP50Us: number;
  fsyncP99Us: number;
  /** sequential 1 MiB writes, fsync at the end included, MB/s (10^6 bytes) */
  writeMBps: number;
  writeMb: number;
}

export interface DiskProbeOptions {
  fsyncs: number;
  /** MiB written for the sequential figure */
  writeMib: number;
}

const quantile = (sorted: readonly number[], p: number): number =>
  sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;

export function probeDisk(dir: string, o: DiskProbeOptions): DiskProbe {
  const file = join(dir, `.disk-probe-${process.pid}`);
  const fd = openSync(file, 'w');
  try {
    const small = Buffer.alloc(512, 0x61);
    const times: number[] = [];
    for (let i = 0; i < o.fsyncs; i++) {
      const t = performance.now();
      writeSync(fd, small);
      fsyncSync(fd);
      times.push((performance.now() - t) * 1000);
    }
    times.sort((a, b) => a - b);
    const chunk = Buffer.alloc(2 ** 20, 0x62);
    const t = performance.now();
    for (let i = 0; i < o.writeMib; i++) writeSync(fd, chunk);
    fsyncSync(fd);
    const sec = (performance.now() - t) / 1000;
    return {
      dir,
      fsyncs: o.fsyncs,
      fsyncP50Us: quantile(times, 0.5),
      fsyncP99Us: quantile(times, 0.99),
      writeMBps: (o.writeMib * 2 ** 20) / 1e6 / sec,
      writeMb: o.writeMib,
    };
  } finally {
    closeSync(fd);
    rmSync(file, { force: true });
  }
}

export const describeDisk = (d: DiskProbe): string =>
  `data dir ${d.dir}: write+fsync p50 ${Math.round(d.fsyncP50Us)} µs, p99 ${Math.round(d.fsyncP99Us)} µs ` +
  `(${d.fsyncs} × 512 B); sequential write ${d.writeMBps.toFixed(0)} MB/s (${d.writeMb} MiB, fsync included)`;
