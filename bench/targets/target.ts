import type { DeviceLogin } from '../load-generator.ts';
import type { WindowCounter } from '../window-counter.ts';

export type TargetKind = 'aedes' | 'mosquitto' | 'citymetrics';

export interface TargetOptions {
  qos: 0 | 1;
  devices: number;
  /** where citymetrics keeps its data (a fresh directory per start) */
  dataDir: string;
  /** a registry with the devices already provisioned, copied into dataDir (citymetrics) */
  registryTemplate?: string;
  counter: WindowCounter;
}

/** A system under test, running in the target child process. */
export interface Target {
  port: number;
  host: string;
  devices: DeviceLogin[];
  /** processes whose CPU and RSS are the system's */
  pids: number[];
  /** citymetrics: the live page, for the publish→live-page latency */
  http?: { url: string; token: string };
  /** citymetrics: values logged but not yet in the series store */
  storeBacklog?(): number;
  /** resolves once everything accepted is fully processed */
  drain?(): Promise<void>;
  stop(): Promise<void>;
}

export const HOST = '127.0.0.1';

export const benchDeviceIds = (n: number): string[] =>
  Array.from({ length: n }, (_, i) => `bench-${String(i).padStart(5, '0')}`);
