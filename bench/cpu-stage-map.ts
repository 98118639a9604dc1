/**
 * Which stage of the pipeline a V8 CPU profile sample belongs to, and the time of a profile per stage.
 *
 * A sample is attributed by its stack, walked from the leaf towards the root: the first frame whose script
 * (and, where a file holds two stages, function) a rule names decides. Shared code (packed points, the
 * calendar, errors, better-sqlite3's wrappers, Node's internals) is named by no rule, so its time goes to
 * the stage that called it: packing for the durable log counts as logging, the same packing for the store
 * as storing. Native calls from JavaScript (SQLite, JSON.parse) have no script of their own and likewise
 * count for their caller.
 */

export type StageId =
  | 'mqtt'
  | 'parse'
  | 'validate'
  | 'ingest'
  | 'log'
  | 'materialize'
  | 'store'
  | 'rollups'
  | 'live'
  | 'socket'
  | 'harness'
  | 'other'
  | 'gc'
  | 'program'
  | 'idle';

/** In the order of the table: the pipeline first, then what is not a stage of it. */
export const STAGES: ReadonlyArray<{ id: StageId; label: string }> = [
  { id: 'mqtt', label: 'MQTT: aedes, mqtt-packet, gateway (auth, ACL, rate limit)' },
  { id: 'parse', label: 'parse: decode (JSON, shape)' },
  { id: 'validate', label: 'validate: zod, kinds, units' },
  { id: 'ingest', label: 'ingest bookkeeping: admission, counters, events' },
  { id: 'log', label: 'durable log: SQLite insert, commit' },
  { id: 'materialize', label: 'materialize: batches for the store' },
  { id: 'store', label: 'series store: hand-off, raw points, commit' },
  { id: 'rollups', label: 'roll-ups: minute, hour, day tiers' },
  { id: 'live', label: 'live page: coalescing, socket.io' },
  { id: 'socket', label: 'sockets outside any stage (node:net, streams)' },
  { id: 'harness', label: "bench's own counter in the platform process" },
  { id: 'other', label: 'other JavaScript' },
  { id: 'gc', label: 'garbage collection' },
  { id: 'program', label: 'native, outside JavaScript (V8, libuv)' },
];

interface StageRule {
  stage: StageId;
  url: RegExp;
  /** only these functions of the script (a file that holds two stages) */
  fn?: RegExp;
}

const ours = (path: string): RegExp => new RegExp(`/${path}\\.[cm]?[jt]s$`);
const pkg = (names: string): RegExp => new RegExp(`/node_modules/(${names})/`);

/** Checked in order for each frame: a narrower rule stands before a wider one on the same files. */
const RULES: readonly StageRule[] = [
  // aedes 1.x and what it runs on (bl buffers mqtt-packet's input, qlobber matches topics)
  {
    stage: 'mqtt',
    url: pkg(
      'aedes[^/]*|mqtt-packet|mqemitter|qlobber|fastparallel|reusify|bl|readable-stream|process-nextick-args',
    ),
  },
  { stage: 'mqtt', url: /\/gateway\/[^/]+\.[cm]?[jt]s$/ },
  { stage: 'parse', url: ours('ingest/decode') },
  { stage: 'validate', url: ours('ingest/validate') },
  { stage: 'validate', url: pkg('zod') },
  { stage: 'validate', url: ours('core/(reading-schema|device-kind)') },
  { stage: 'validate', url: ours('devices/[^/]+') },
  { stage: 'ingest', url: ours('ingest/(ingest-service|admit|device-counters|ingest-stats)') },
  { stage: 'ingest', url: ours('core/(rate-ring|platform-events|telemetry)') },
  { stage: 'ingest', url: pkg('prom-client') },
  { stage: 'log', url: ours('ingest/(durable-log|log-schema)') },
  { stage: 'materialize', url: ours('ingest/materializer') },
  // batch-writer.ts holds both: BatchWriter.write inserts the raw points, the rest folds them into tiers.
  {
    stage: 'rollups',
    url: ours('ingest/store/batch-writer'),
    fn: /^(addDeltas|markDirty|flushTier|store|recompute|fromPoints|fromMembers|add|get|set|entries|start|clear)$/,
  },
  { stage: 'rollups', url: ours('ingest/store/(rollup-tables|rollup-math)') },
  { stage: 'store', url: /\/ingest\/store\/[^/]+\.[cm]?[jt]s$/ },
  { stage: 'live', url: /\/dashboards\/live\/[^/]+\.[cm]?[jt]s$/ },
  { stage: 'live', url: pkg('socket\\.io[^/]*|engine\\.io[^/]*|ws') },
  { stage: 'harness', url: /\/bench\/[^/]+(\/[^/]+)?\.[cm]?[jt]s$/ },
];

/** Asked only when no frame of the stack matched RULES: socket work that no stage called. */
const FALLBACK: readonly StageRule[] = [
  { stage: 'socket', url: /^node:(net|internal\/stream_base_commons|internal\/streams\/[^/]+|stream)$/ },
];

/** The parts of a `.cpuprofile` (the Chrome DevTools format `node --cpu-prof` writes) that are read here. */
export interface CpuProfile {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string };
    children?: number[];
  }>;
  /** µs, on the clock of process.hrtime (CLOCK_MONOTONIC on Linux) */
  startTime: number;
  endTime: number;
  /** node id of each sample */
  samples: number[];
  /** µs since the previous sample (the first: since startTime) */
  timeDeltas: number[];
}

export type StageTimes = Record<StageId, number>;

export const emptyStageTimes = (): StageTimes =>
  Object.fromEntries([...STAGES.map((s) => s.id), 'idle'].map((id) => [id, 0])) as StageTimes;

// A Map, not an object literal: a frame named "constructor" or "toString" must not find Object's methods.
const VM_FRAMES = new Map<string, StageId>([
  ['(garbage collector)', 'gc'],
  ['(program)', 'program'],
  ['(idle)', 'idle'],
]);

function ruleFor(rules: readonly StageRule[], frame: { functionName: string; url: string }): StageId | null {
  for (const r of rules)
    if (r.url.test(frame.url) && (r.fn === undefined || r.fn.test(frame.functionName))) return r.stage;
  return null;
}

/**
 * The time of each stage in a profile (µs), counting the samples taken in [fromUs, toUs) (the whole
 * profile without a window). A sample stands for the time until the next one, clipped to the window.
 */
export function attributeProfile(profile: CpuProfile, window?: { fromUs: number; toUs: number }): StageTimes {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const memo = new Map<number, StageId>();
  const stageOf = (leaf: number): StageId => {
    const known = memo.get(leaf);
    if (known !== undefined) return known;
    let found = VM_FRAMES.get(byId.get(leaf)?.callFrame.functionName ?? '') ?? null;
    for (const rules of [RULES, FALLBACK]) {
      for (let id: number | undefined = leaf; found === null && id !== undefined; id = parent.get(id)) {
        const node = byId.get(id);
        if (node !== undefined) found = ruleFor(rules, node.callFrame);
      }
    }
    const stage = found ?? 'other';
    memo.set(leaf, stage);
    return stage;
  };

  const out = emptyStageTimes();
  const from = window?.fromUs ?? Number.NEGATIVE_INFINITY;
  const to = window?.toUs ?? Number.POSITIVE_INFINITY;
  let t = profile.startTime;
  const n = profile.samples.length;
  for (let i = 0; i < n; i++) {
    t += profile.timeDeltas[i] ?? 0;
    const next = i + 1 < n ? t + (profile.timeDeltas[i + 1] ?? 0) : profile.endTime;
    const us = Math.min(next, to) - Math.max(t, from);
    if (us > 0) out[stageOf(profile.samples[i]!)] += us;
  }
  return out;
}

/** Busy time: every stage but idle. */
export const busyUs = (t: StageTimes): number =>
  Object.entries(t).reduce((sum, [id, us]) => (id === 'idle' ? sum : sum + us), 0);
