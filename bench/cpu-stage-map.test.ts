import { describe, expect, it } from 'vitest';
import { buildBreakdown } from './cpu-breakdown.ts';
import { attributeProfile, busyUs, type CpuProfile } from './cpu-stage-map.ts';

// A tiny profile in the format `node --cpu-prof` writes: a tree of call frames and, per sample, the leaf.
const root = 'file:///srv/citymetrics';
const frame = (id: number, functionName: string, url: string, children: number[] = []) => ({
  id,
  callFrame: { functionName, url },
  children,
});
const nodes: CpuProfile['nodes'] = [
  frame(1, '(root)', '', [2, 3, 4, 10, 11, 17]),
  frame(2, '(garbage collector)', ''),
  frame(3, '(idle)', ''),
  frame(4, 'onStreamRead', 'node:internal/stream_base_commons', [5, 9]),
  frame(5, 'handlePublish', `${root}/node_modules/aedes/lib/handlers/publish.js`, [6]),
  frame(6, 'admitMessage', `${root}/ingest/admit.ts`, [7, 8]),
  frame(7, 'decodeReadings', `${root}/ingest/decode.ts`, [12]),
  frame(8, 'validateReadings', `${root}/ingest/validate.ts`, [13]),
  frame(9, 'readableAddChunk', 'node:internal/streams/readable'),
  frame(10, 'write', `${root}/ingest/store/batch-writer.ts`, [14, 15]),
  frame(11, 'constructor', `${root}/metrics/engine.ts`),
  // shared code: counts for whoever called it
  frame(12, 'packValues', `${root}/core/packed-points.ts`),
  frame(13, 'safeParse', `${root}/node_modules/zod/lib/types.js`),
  frame(14, 'addDeltas', `${root}/ingest/store/batch-writer.ts`, [16]),
  frame(15, 'run', ''), // better-sqlite3's native insert, called by BatchWriter.write
  frame(16, 'bucketStart', `${root}/core/city-calendar.ts`),
  frame(17, 'commit', `${root}/dist/ingest/durable-log.js`, [18]),
  frame(18, 'packValues', `${root}/core/packed-points.ts`),
];
// leaf of each sample and the time since the previous one (µs); each sample lasts until the next
const samples: Array<[leaf: number, deltaUs: number]> = [
  [2, 0], // gc                       1000 → 1100
  [3, 100], // idle                   1100 → 1300
  [12, 200], // parse, via packing    1300 → 1350
  [13, 50], // validate, via zod      1350 → 1360
  [9, 10], // socket: no stage above  1360 → 1400
  [16, 40], // roll-ups               1400 → 1700
  [15, 300], // store                 1700 → 1710
  [11, 10], // other                  1710 → 1730
  [18, 20], // log (compiled build)   1730 → 2000 (endTime)
];
const profile: CpuProfile = {
  nodes,
  startTime: 1_000,
  endTime: 2_000,
  samples: samples.map(([leaf]) => leaf),
  timeDeltas: samples.map(([, d]) => d),
};

describe('CPU profile attribution by stage', () => {
  it('gives each sample to the first frame from the leaf that a stage claims', () => {
    const t = attributeProfile(profile);
    expect(t).toMatchObject({
      gc: 100,
      idle: 200,
      parse: 50,
      validate: 10,
      socket: 40,
      rollups: 300,
      store: 10,
      other: 20,
      log: 270,
      mqtt: 0,
      ingest: 0,
    });
    expect(busyUs(t)).toBe(1_000 - 200);
  });

  it('counts only the window, cutting the samples at its ends', () => {
    const t = attributeProfile(profile, { fromUs: 1_320, toUs: 1_500 });
    expect(t).toMatchObject({ parse: 30, validate: 10, socket: 40, rollups: 100, idle: 0, gc: 0 });
    expect(busyUs(t)).toBe(180);
  });

  it('divides by the readings, takes the waits for a core out and shows what the profile misses', () => {
    const b = buildBreakdown({
      qos: 1,
      rate: 1000,
      windowMs: 1,
      readings: 10,
      sampleIntervalUs: 100,
      profiles: { main: profile, writer: profile },
      fromUs: 0,
      toUs: 10_000,
      cpu: {
        // sampled busy 800 µs on each: the main thread 800 on a core, and 200 more the profile missed
        main: { cpuSec: 1_000e-6, waitSec: 0, systemSec: 200e-6 },
        // the writer 600 on a core and 200 waiting for one: 3/4 of its samples are CPU
        writer: { cpuSec: 600e-6, waitSec: 200e-6, systemSec: 0 },
        processSec: 2_000e-6,
      },
    });
    expect(b.stages.find((s) => s.stage === 'rollups')).toEqual({
      stage: 'rollups',
      label: expect.any(String),
      mainSampledUs: 30,
      mainCpuUs: 30,
      writerSampledUs: 30,
      writerCpuUs: 22.5,
    });
    expect(b.main).toEqual({
      sampledUs: 80,
      cpuUs: 100,
      waitUs: 0,
      systemUs: 20,
      idleUs: 20,
      unseenUs: 20,
      coverage: 0.8,
    });
    expect(b.writer).toMatchObject({ sampledUs: 80, cpuUs: 60, waitUs: 20, unseenUs: 0, coverage: 1 });
    expect(b.otherThreadsCpuUs).toBe(40);
    expect(b.agreed).toEqual({ main: false, writer: true });
  });
});
