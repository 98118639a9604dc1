import { type Handlers, serve } from './ipc.ts';
import type { DeviceLogin } from './load-generator.ts';
import type { Target, TargetKind } from './targets/target.ts';
import { WindowCounter, type WindowReport } from './window-counter.ts';

/**
 * The system under test, in its own child process (forked by bench/run.ts with --expose-gc) so that its CPU
 * and memory are its own. It counts what it receives with a WindowCounter and answers the runner.
 */

export interface StartArgs {
  kind: TargetKind;
  qos: 0 | 1;
  devices: number;
  dataDir: string;
  registryTemplate?: string;
  logins?: DeviceLogin[];
}
export type StartedTarget = Pick<Target, 'port' | 'host' | 'devices' | 'pids' | 'http'>;
export type TargetReport = WindowReport & { storeBacklog: number };

const counter = new WindowCounter();
let target: Target | null = null;
/**
 * BENCH_FAIL_TARGET=<kind>: that system under test refuses to start. Only for the test that holds a run with
 * a failing scenario to ending (non-zero, its children gone) instead of hanging.
 */
const failKind = process.env.BENCH_FAIL_TARGET;

const handlers = {
  async start(a: StartArgs): Promise<StartedTarget> {
    if (a.kind === failKind) throw new Error(`${a.kind} refused to start (BENCH_FAIL_TARGET)`);
    const options = {
      qos: a.qos,
      devices: a.devices,
      dataDir: a.dataDir,
      counter,
      ...(a.registryTemplate !== undefined ? { registryTemplate: a.registryTemplate } : {}),
    };
    // Imported on demand: loading the whole platform costs seconds the bare brokers need not pay.
    if (a.kind === 'aedes') target = await (await import('./targets/bare-aedes.ts')).startBareAedes(options);
    else if (a.kind === 'mosquitto')
      target = await (await import('./targets/mosquitto.ts')).startMosquitto(options);
    else {
      const { startCitymetrics } = await import('./targets/citymetrics.ts');
      target = await startCitymetrics({ ...options, logins: a.logins ?? [] });
    }
    const { port, host, devices, pids, http } = target;
    return { port, host, devices, pids, ...(http !== undefined ? { http } : {}) };
  },
  window(a: { t0: number; t1: number }) {
    counter.setWindow(a.t0, a.t1);
    return true;
  },
  report(): TargetReport {
    return { ...counter.report(), storeBacklog: target?.storeBacklog?.() ?? 0 };
  },
  async drain() {
    await target?.drain?.();
    return true;
  },
  /** Collects garbage, then reports memory: for the RSS-per-connection figures. */
  gc() {
    (globalThis as { gc?: () => void }).gc?.();
    return process.memoryUsage();
  },
  async stop() {
    const t = target;
    target = null;
    await t?.stop();
    return true;
  },
} satisfies Handlers;

serve(handlers, async () => {
  await target?.stop().catch(() => {});
});
