import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { type ClusterComparison, type ClusterStep, renderCluster } from './cluster-report.ts';
import { childArgs, compareRounds, figuresOf, median, renderCompare } from './compare.ts';
import { describeDisk, probeDisk } from './disk-probe.ts';
import { LatencyHistogram } from './histogram.ts';
import { encodePublish, encodeTopic, type Incoming, PacketReader } from './mqtt-wire.ts';
import { buildPayload, sendTimeOf, valuePool } from './payload.ts';
import { judgeStep, maxSustained, nextRate, type StepObservation, type StepPlan } from './stepping.ts';
import { WindowCounter } from './window-counter.ts';

// The harness logic only: no speed is asserted anywhere (speed is judged by `npm run bench`).

const plan: StepPlan = { startRate: 1000, maxRate: 16_000, factor: 2, bisections: 2, granularity: 100 };

const obs = (o: Partial<StepObservation>): StepObservation => ({
  targetRate: 1000,
  windowMs: 1000,
  qos: 0,
  sent: 1000,
  generatorBehind: 0,
  blocked: 0,
  acked: 0,
  deliveredEarly: 1000,
  deliveredFinal: 1000,
  latencyP50Q2: 2,
  latencyP50Q4: 2,
  ...o,
});

describe('step judgement', () => {
  it.each([
    ['all delivered', obs({}), 'ok'],
    ['late deliveries', obs({ deliveredEarly: 900 }), 'fail'],
    ['loss at QoS 0', obs({ deliveredFinal: 999 }), 'fail'],
    ['loss of acknowledged QoS 1', obs({ qos: 1, acked: 1000, deliveredFinal: 990 }), 'fail'],
    [
      'unacknowledged QoS 1 is not loss',
      obs({ qos: 1, acked: 990, deliveredEarly: 990, deliveredFinal: 990 }),
      'ok',
    ],
    ['broker pushback', obs({ blocked: 100, sent: 900, deliveredEarly: 900, deliveredFinal: 900 }), 'fail'],
    ['growing latency', obs({ latencyP50Q2: 5, latencyP50Q4: 40 }), 'fail'],
    ['store behind', obs({ storeBacklogFinal: 10 }), 'fail'],
    [
      'generator behind',
      obs({ generatorBehind: 100, sent: 900, deliveredEarly: 900, deliveredFinal: 900 }),
      'generator-limited',
    ],
    [
      'system fails and generator behind',
      obs({ generatorBehind: 100, sent: 900, deliveredEarly: 500, deliveredFinal: 900 }),
      'fail',
    ],
  ] as const)('%s → %s', (_name, o, verdict) => {
    expect(judgeStep(o).verdict).toBe(verdict);
  });

  it('counts the lost messages', () => {
    expect(judgeStep(obs({ qos: 1, acked: 1000, deliveredFinal: 970 })).lost).toBe(30);
  });
});

describe('rate stepping', () => {
  const walk = (capacity: number) => {
    const history: Array<{ rate: number; verdict: 'ok' | 'fail' }> = [];
    for (let r = nextRate(history, plan); r !== null; r = nextRate(history, plan))
      history.push({ rate: r, verdict: r <= capacity ? 'ok' : 'fail' });
    return history;
  };

  it('doubles, then bisects between the last good and first failed rate', () => {
    expect(walk(5000).map((h) => h.rate)).toEqual([1000, 2000, 4000, 8000, 6000, 5000]);
    expect(maxSustained(walk(5000)).rate).toBe(5000);
  });

  it('stops at the maximum rate when nothing fails', () => {
    expect(walk(1e9).map((h) => h.rate)).toEqual([1000, 2000, 4000, 8000, 16_000]);
  });

  it('bisects downwards when the first step already fails', () => {
    expect(walk(300).map((h) => h.rate)).toEqual([1000, 500, 300]);
  });

  it('ends at a generator-limited step and marks the maximum', () => {
    const history = [
      { rate: 1000, verdict: 'ok' as const },
      { rate: 2000, verdict: 'generator-limited' as const },
    ];
    expect(nextRate(history, plan)).toBeNull();
    expect(maxSustained(history)).toEqual({ rate: 1000, generatorLimited: true });
  });
});

describe('wire format', () => {
  it('encodes a PUBLISH that mqtt-packet parses back, at QoS 0 and 1', () => {
    const payload = buildPayload(valuePool(7), 1_700_000_000_123, 42);
    for (const qos of [0, 1] as const) {
      const parser = mqttPacket.parser();
      const packets: mqttPacket.Packet[] = [];
      parser.on('packet', (p) => packets.push(p));
      parser.parse(encodePublish(encodeTopic('devices/a-1/telemetry'), payload, qos, 513));
      expect(packets).toHaveLength(1);
      const p = packets[0] as mqttPacket.IPublishPacket;
      expect(p.topic).toBe('devices/a-1/telemetry');
      expect(p.qos).toBe(qos);
      expect(p.payload.toString()).toBe(payload);
      if (qos === 1) expect(p.messageId).toBe(513);
    }
  });

  it('reads CONNACK and PUBACK split across chunks', () => {
    const seen: Incoming[] = [];
    const reader = new PacketReader((p) => seen.push(p));
    const bytes = Buffer.concat([
      mqttPacket.generate({ cmd: 'connack', returnCode: 0, sessionPresent: false }),
      mqttPacket.generate({ cmd: 'puback', messageId: 300 }),
      mqttPacket.generate({ cmd: 'pingresp' }),
    ]);
    for (let i = 0; i < bytes.length; i += 3) reader.push(bytes.subarray(i, i + 3));
    expect(seen).toEqual([
      { type: 'connack', returnCode: 0 },
      { type: 'puback', messageId: 300 },
      { type: 'other', cmd: 13 },
    ]);
  });

  it('reads the send time without parsing JSON, and refuses other shapes', () => {
    const payload = buildPayload(valuePool(), 1_700_000_000_123, 1);
    expect(sendTimeOf(Buffer.from(payload))).toBe(1_700_000_000_123);
    expect(JSON.parse(payload).values.no2).toEqual({ value: expect.any(Number), unit: 'ppb' });
    expect(sendTimeOf(Buffer.from('{"ts":"2024-01-01T00:00:00Z"}'))).toBeNaN();
  });

  it('gives the same payloads for the same seed', () => {
    expect(valuePool(5)).toEqual(valuePool(5));
    expect(valuePool(5)).not.toEqual(valuePool(6));
  });
});

describe('histogram and window counter', () => {
  it('finds quantiles and survives the IPC round trip', () => {
    const h = new LatencyHistogram();
    for (let i = 1; i <= 100; i++) h.record(i);
    const back = LatencyHistogram.fromWire(h.toWire());
    expect(back.count).toBe(100);
    expect(back.quantile(0.5)).toBe(50);
    expect(back.quantile(0.99)).toBe(99);
    expect(new LatencyHistogram().quantile(0.5)).toBeNaN();
  });

  it('counts only messages sent in the window, and those on time', () => {
    const c = new WindowCounter();
    c.setWindow(1000, 2000, 100);
    c.record(999, 5, 1005); // warm-up
    c.record(1000, 5, 1003);
    c.record(1999, 5, 2050);
    c.record(1999, 5, 2200); // late
    c.record(2000, 5, 2001); // after the window
    const r = c.report();
    expect(r).toMatchObject({ totalMessages: 5, messages: 3, onTime: 2, values: 15 });
    expect(LatencyHistogram.fromWire(r.latency).count).toBe(3);
  });
});

describe('disk probe', () => {
  it('reports fsync and write figures for the directory and leaves nothing behind', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-disk-'));
    try {
      const d = probeDisk(dir, { fsyncs: 3, writeMib: 1 });
      expect(d.fsyncs).toBe(3);
      expect(d.fsyncP99Us).toBeGreaterThanOrEqual(d.fsyncP50Us);
      expect(Number.isFinite(d.writeMBps) && d.writeMBps > 0).toBe(true);
      expect(describeDisk(d)).toContain(dir);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('--compare', () => {
  it("takes the median of each build's rounds and the ratio other / current", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(median([])).toBeNull();
    const r = (max: number, p99: number) => ({
      'citymetrics QoS 1': { maxPerSec: max, p50Ms: 2, p99Ms: p99, pubackP99Ms: null },
    });
    const rows = compareRounds(
      [r(1000, 10), r(3000, 30), r(2000, 20)],
      [r(1000, 40), r(1000, 40), r(9000, 40)],
    );
    const max = rows.find((x) => x.metric === 'max sustained readings/s')!;
    expect([max.current, max.other, max.ratio]).toEqual([2000, 1000, 0.5]);
    expect(rows.find((x) => x.metric === 'p99 publish→consumer ms')!.ratio).toBe(2);
    // a figure neither build has is left out
    expect(rows.some((x) => x.metric === 'p99 PUBACK ms')).toBe(false);
    expect(renderCompare('v1', 3, rows)).toContain(
      '| citymetrics QoS 1 | max sustained readings/s | 2,000 | 1,000 | 0.50 × |',
    );
  });

  it('compares the periods scenario by its close and its slowest recompute', () => {
    const periods = (close: number, recompute: number) =>
      figuresOf({
        throughput: [],
        periods: {
          status: '',
          closeMonthSec: close,
          recomputeAllSec: recompute,
          recomputeRunsSec: [recompute],
        },
      });
    const rows = compareRounds(
      [periods(0.1, 0.4), periods(0.12, 0.5)],
      [periods(0.1, 0.8), periods(0.14, 1.2)],
    );
    const recompute = rows.find((x) => x.metric === 'recompute all KPIs s (slowest run)')!;
    expect([recompute.current, recompute.other, recompute.ratio]).toEqual([0.45, 1, 1 / 0.45]);
    expect(rows.find((x) => x.metric === 'close a month s')!.current).toBeCloseTo(0.11, 12);
    expect(renderCompare('v1', 2, rows)).toContain(
      '| periods | recompute all KPIs s (slowest run) | 0.45 | 1.00 | 2.22 × |',
    );
  });

  it('runs scenario 3 at QoS 1 unless told otherwise', () => {
    expect(childArgs(['--quick'])).toEqual(['--quick', '--only', 'citymetrics', '--qos', '1']);
    expect(childArgs(['--only', 'aedes', '--qos', '0'])).toEqual(['--only', 'aedes', '--qos', '0']);
  });
});

describe('cluster report', () => {
  const step = (offered: number, sustained: boolean): ClusterStep => ({
    offered,
    windowMs: 1000,
    ackedPerSec: offered,
    storedPerSec: offered,
    allStored: sustained,
    sustained,
    reasons: sustained ? [] : ['stored 900 ms after the window'],
    pubackP50Ms: 1,
    pubackP99Ms: 12,
  });
  it('prints both systems, the first failed step with its reason, the ratio and the CPU per role', () => {
    const c: ClusterComparison = {
      counts: { edge: 2, writer: 2 },
      single: {
        maxSustained: step(2000, true),
        moderate: step(125, true),
        steps: [step(2000, true), step(4000, false)],
        cpu: [{ group: 'single', processes: 1, cpuUsPerReading: 150, cpuPercent: 30 }],
      },
      cluster: {
        maxSustained: step(250, true),
        moderate: step(125, true),
        steps: [step(250, true), step(500, false)],
        cpu: [
          { group: 'edge', processes: 2, cpuUsPerReading: 1000, cpuPercent: 25 },
          { group: 'writer', processes: 2, cpuUsPerReading: 2000, cpuPercent: 50 },
        ],
      },
      throughputRatio: 0.125,
    };
    const md = renderCluster(c);
    expect(md).toContain(
      '| cluster | first failed | 500 | 500 | 500 | no: stored 900 ms after the window | 1.0 / 12 |',
    );
    expect(md).toContain('0.13 ×');
    expect(md).toContain('| edge | 2 | 1,000 | 25 |');
    expect(md).toContain('| cluster total | | 3,000 | |');
  });
});
