import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchResults } from './report.ts';

/**
 * `npm run bench -- --compare <git-rev> [--rounds N] [other bench options]`: the other revision is checked
 * out into a temporary git worktree and the two builds run the same scenario in turns, A B A B..., so that
 * a machine's drift (another job, a warm disk cache, thermal limits) falls on both alike; each build's
 * figure is the median of its rounds. The worktree is removed at the end, also on Ctrl-C.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** One figure of one round: scenario 3 at a QoS level, or any other system the options select. */
export interface RoundFigures {
  /** `<kind> QoS <q>` → figures */
  [scenario: string]: {
    maxPerSec?: number;
    p50Ms?: number | null;
    p99Ms?: number | null;
    pubackP99Ms?: number | null;
    closeMonthSec?: number | null;
    recomputeAllSec?: number | null;
  };
}

export function figuresOf(res: Pick<BenchResults, 'throughput' | 'periods'>): RoundFigures {
  const out: RoundFigures = {};
  if (res.periods != null)
    out.periods = {
      closeMonthSec: res.periods.closeMonthSec,
      recomputeAllSec: res.periods.recomputeAllSec,
    };
  for (const t of res.throughput)
    out[`${t.kind} QoS ${t.qos}`] = {
      maxPerSec: t.maxReadingsPerSec,
      p50Ms: t.latency?.p50Ms ?? null,
      p99Ms: t.latency?.p99Ms ?? null,
      pubackP99Ms: t.latency?.pubackP99Ms ?? null,
    };
  return out;
}

export const median = (xs: readonly number[]): number | null => {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
};

export interface CompareRow {
  scenario: string;
  metric: string;
  current: number | null;
  other: number | null;
  /** other / current, medians of the rounds */
  ratio: number | null;
}

const METRICS = [
  ['maxPerSec', 'max sustained readings/s'],
  ['p50Ms', 'p50 publish→consumer ms'],
  ['p99Ms', 'p99 publish→consumer ms'],
  ['pubackP99Ms', 'p99 PUBACK ms'],
  ['closeMonthSec', 'close a month s'],
  ['recomputeAllSec', 'recompute all KPIs s (slowest run)'],
] as const;

export function compareRounds(
  current: readonly RoundFigures[],
  other: readonly RoundFigures[],
): CompareRow[] {
  const scenarios = [...new Set([...current, ...other].flatMap((r) => Object.keys(r)))];
  const rows: CompareRow[] = [];
  for (const scenario of scenarios)
    for (const [key, metric] of METRICS) {
      const pick = (rs: readonly RoundFigures[]) =>
        median(rs.map((r) => r[scenario]?.[key] ?? Number.NaN).filter((x): x is number => x !== null));
      const a = pick(current);
      const b = pick(other);
      if (a === null && b === null) continue;
      rows.push({
        scenario,
        metric,
        current: a,
        other: b,
        ratio: a !== null && b !== null && a !== 0 ? b / a : null,
      });
    }
  return rows;
}

export function renderCompare(rev: string, rounds: number, rows: readonly CompareRow[]): string {
  const f = (x: number | null) =>
    x === null ? '–' : x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(x < 10 ? 2 : 1); // seconds and milliseconds under ten keep their hundredths
  const out = [
    `Compare: this checkout (A) vs ${rev} (B), ${rounds} round${rounds === 1 ? '' : 's'} each, alternating A B; medians.`,
    '',
    `| scenario | figure | A (this checkout) | B (${rev}) | B / A |`,
    '| --- | --- | ---: | ---: | ---: |',
  ];
  for (const r of rows)
    out.push(
      `| ${r.scenario} | ${r.metric} | ${f(r.current)} | ${f(r.other)} | ${r.ratio === null ? '–' : `${r.ratio.toFixed(2)} ×`} |`,
    );
  return out.join('\n');
}

const sha256 = (file: string): string | null =>
  existsSync(file) ? createHash('sha256').update(readFileSync(file)).digest('hex') : null;

/** Checks the revision out and gives it node_modules: hard links when the lock file is the same. */
function prepareWorktree(rev: string, log: (line: string) => void): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'citymetrics-compare-')), 'tree');
  execFileSync('git', ['-C', ROOT, 'worktree', 'add', '--detach', dir, rev], { stdio: 'pipe' });
  if (!existsSync(join(dir, 'bench', 'run.ts'))) throw new Error(`${rev} has no bench/run.ts to run`);
  const same = sha256(join(ROOT, 'package-lock.json')) === sha256(join(dir, 'package-lock.json'));
  if (same && existsSync(join(ROOT, 'node_modules'))) {
    log(`${rev}: package-lock.json identical, node_modules hard-linked`);
    execFileSync('cp', ['-al', join(ROOT, 'node_modules'), join(dir, 'node_modules')]);
  } else {
    log(`${rev}: package-lock.json differs, npm ci`);
    execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, stdio: 'inherit' });
  }
  // The bench runs the platform from its TypeScript sources through tsx: no build step is needed.
  return dir;
}

function removeWorktree(dir: string): void {
  try {
    execFileSync('git', ['-C', ROOT, 'worktree', 'remove', '--force', dir], { stdio: 'pipe' });
  } catch {
    // already gone, or never added
  }
  rmSync(join(dir, '..'), { recursive: true, force: true });
  execFileSync('git', ['-C', ROOT, 'worktree', 'prune'], { stdio: 'pipe' });
}

let child: ChildProcess | null = null;

/** Runs one bench in `tree`, its own progress shown indented; the figures of the results file it wrote. */
function runIn(tree: string, args: readonly string[], log: (line: string) => void): Promise<RoundFigures> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...args], {
      cwd: tree,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child = c;
    let out = '';
    c.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
    });
    c.once('error', reject);
    c.once('exit', (code) => {
      child = null;
      const file = /^results: (.+)$/m.exec(out)?.[1];
      if (code !== 0 || file === undefined) {
        reject(new Error(`bench in ${tree} exited with ${code}:\n${out.slice(-2_000)}`));
        return;
      }
      const res = JSON.parse(readFileSync(file.trim(), 'utf8')) as BenchResults;
      for (const line of out.split('\n').filter((l) => /^ {2}\S.* @ \d+\/s: /.test(l)))
        log(`    ${line.trim()}`);
      resolve(figuresOf(res));
    });
  });
}

/** The bench options each build gets: scenario 3 at QoS 1 unless the caller chose. */
export function childArgs(args: readonly string[]): string[] {
  const out = [...args];
  if (!out.includes('--only')) out.push('--only', 'citymetrics');
  if (!out.includes('--qos')) out.push('--qos', '1');
  return out;
}

export async function runCompare(
  rev: string,
  rounds: number,
  passThrough: readonly string[],
  log: (line: string) => void,
): Promise<void> {
  const args = childArgs(passThrough);
  const tree = prepareWorktree(rev, log);
  const onSigint = () => {
    child?.kill('SIGINT');
    removeWorktree(tree);
    process.exit(130);
  };
  process.once('SIGINT', onSigint);
  try {
    const a: RoundFigures[] = [];
    const b: RoundFigures[] = [];
    for (let i = 1; i <= rounds; i++) {
      log(`round ${i}/${rounds}: A (this checkout)`);
      a.push(await runIn(ROOT, args, log));
      log(`round ${i}/${rounds}: B (${rev})`);
      b.push(await runIn(tree, args, log));
    }
    log('');
    log(renderCompare(rev, rounds, compareRounds(a, b)));
  } finally {
    process.off('SIGINT', onSigint);
    removeWorktree(tree);
  }
}
