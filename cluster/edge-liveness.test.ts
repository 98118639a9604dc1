import { describe, expect, it } from 'vitest';
import {
  EDGE_SILENT_MS,
  EdgeLiveness,
  edgeHeartbeatSubject,
  edgeHeartbeatSubjects,
} from './edge-liveness.ts';

describe('EdgeLiveness', () => {
  it('forgets a silent edge with its online devices, once; a device that moved or left stays out of it', () => {
    const live = new EdgeLiveness();
    live.heartbeat('a', 0);
    live.status('a', { deviceId: 'd1', online: true, at: 0 }, 0);
    live.status('a', { deviceId: 'd2', online: true, at: 0 }, 0);
    live.status('a', { deviceId: 'd3', online: true, at: 0 }, 0);
    live.status('a', { deviceId: 'd3', online: false, at: 1 }, 1);
    // d2 reconnects through b, heard of only by its status
    live.status('b', { deviceId: 'd2', online: true, at: 2_000 }, 2_000);
    // an offline from a after the move does not take d2 from b
    live.status('a', { deviceId: 'd2', online: false, at: 2_001 }, 2_001);
    expect(live.edges).toBe(2);
    expect(live.sweep(EDGE_SILENT_MS)).toEqual([]);
    live.heartbeat('b', EDGE_SILENT_MS);
    expect(live.sweep(EDGE_SILENT_MS + 1)).toEqual([
      { deviceId: 'd1', online: false, at: EDGE_SILENT_MS + 1 },
    ]);
    expect(live.edges).toBe(1);
    expect(live.sweep(EDGE_SILENT_MS + 2)).toEqual([]);
    expect(live.sweep(3 * EDGE_SILENT_MS)).toEqual([
      { deviceId: 'd2', online: false, at: 3 * EDGE_SILENT_MS },
    ]);
    expect(live.edges).toBe(0);
  });

  it('names the heartbeat subjects under the prefix', () => {
    expect(edgeHeartbeatSubject('cm', 'e1')).toBe('cm.edges.e1');
    expect(edgeHeartbeatSubjects('cm')).toBe('cm.edges.*');
  });
});
