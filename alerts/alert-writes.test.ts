import { describe, expect, it } from 'vitest';
import { silentLogger } from '../core/logger.ts';
import { AlertWrites } from './alert-writes.ts';

describe('alert writes', () => {
  it('runs a write at once when none is pending, so a synchronous store has it on return', () => {
    const writes = new AlertWrites(silentLogger(), 5);
    const done: string[] = [];
    writes.enqueue('a', async () => done.push('a'));
    expect(done).toEqual(['a']);
  });

  it('keeps the order through failures: the ones behind a refused write wait for it', async () => {
    const writes = new AlertWrites(silentLogger(), 5);
    const done: string[] = [];
    let refusals = 3;
    writes.enqueue('open', async () => {
      if (refusals-- > 0) throw new Error('connection refused');
      done.push('open');
    });
    writes.enqueue('acknowledge', async () => done.push('acknowledge'));
    writes.enqueue('clear', async () => done.push('clear'));
    expect(writes.pending).toBe(3);
    await writes.idle();
    expect(done).toEqual(['open', 'acknowledge', 'clear']);
    expect(refusals).toBe(-1);
    expect(writes.pending).toBe(0);
  });

  it('close waits a bounded time and says how many were left unstored', async () => {
    const writes = new AlertWrites(silentLogger(), 5);
    writes.enqueue('never', async () => {
      throw new Error('gone');
    });
    writes.enqueue('behind', async () => undefined);
    expect(await writes.close(50)).toBe(2);
  });
});

describe('alert writes, waited for with a bound', () => {
  it('idle(timeout) resolves after the timeout while a write is still refused', {
    timeout: 5_000,
  }, async () => {
    const writes = new AlertWrites(silentLogger(), 5);
    writes.enqueue('refused', async () => {
      throw new Error('disk full');
    });
    // without the bound this would wait for ever (the test's own timeout would fail it)
    await writes.idle(30);
    expect(writes.pending).toBe(1);
    await writes.close(1);
  });
});
