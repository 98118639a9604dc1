import { EventEmitter } from 'node:events';
import type { ErrorCode } from './errors.ts';
import type { NormalizedValue } from './reading-schema.ts';

export interface ReadingsAccepted {
  deviceId: string;
  kind: string;
  district: string;
  values: readonly NormalizedValue[];
}

export interface MessageRefused {
  deviceId: string | null;
  code: ErrorCode;
  at: number;
}

export interface DeviceStatusChanged {
  deviceId: string;
  online: boolean;
  at: number;
}

export interface DeviceEventAccepted {
  deviceId: string;
  kind: string;
  district: string;
  type: string;
  ts: number;
  data?: Record<string, unknown>;
}

interface EventMap {
  readings: [ReadingsAccepted];
  refused: [MessageRefused];
  'device-status': [DeviceStatusChanged];
  'device-event': [DeviceEventAccepted];
}

/**
 * In-process notifications between parts (ingest → live page, metrics). Listeners must be cheap and never
 * throw: they run on the ingest path. Slow consumers coalesce on their side.
 */
export class PlatformEvents extends EventEmitter<EventMap> {
  constructor() {
    super({ captureRejections: false });
    this.setMaxListeners(100);
  }
}
