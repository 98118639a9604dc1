import { describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.ts';
import { silentLogger } from '../core/logger.ts';
import { AlertWrites } from './alert-writes.ts';

const RETRY_MS = 5;

/** A write refused `refusals` times, then done; each try's outcome is kept, to wait for it. */
function refusedWrite(refusals: number, done: () => void) {
  const tries: Array<Promise<unknown>> = [];
  let left = refusals;
  const run = () => {
    const attempt = (async () => {
      if (left-- > 0) throw new Error('connection refused');
      done();
    })();
    tries.push(attempt.catch(() => undefined));
    return attempt;
  };
  return { run, tries };
}

describe('alert writes', () => {
  it('runs a write at once when none is pending, so a synchronous store has it on return', () => {
    const writes = new AlertWrites(silentLogger(), new ManualClock(0), RETRY_MS);
    const done: string[] = [];
    writes.enqueue('a', async () => done.push('a'));
    expect(done).toEqual(['a']);
  });

  it('keeps the order through failures: the ones behind a refused write wait for it', async () => {
    const clock = new ManualClock(0);
    const writes = new AlertWrites(silentLogger(), clock, RETRY_MS);
    const done: string[] = [];
    const open = refusedWrite(3, () => done.push('open'));
    writes.enqueue('open', open.run);
    writes.enqueue('acknowledge', async () => done.push('acknowledge'));
    writes.enqueue('clear', async () => done.push('clear'));
    expect(writes.pending).toBe(3);
    for (let refused = 0; refused < 3; refused++) {
      await open.tries[refused];
      expect(done).toEqual([]);
      clock.advance(RETRY_MS);
    }
    await writes.idle();
    expect(done).toEqual(['open', 'acknowledge', 'clear']);
    expect(open.tries).toHaveLength(4);
    expect(writes.pending).toBe(0);
  });

  it('tries a refused write again when the clock reaches retryMs, not a millisecond before', async () => {
    const clock = new ManualClock(0);
    const writes = new AlertWrites(silentLogger(), clock, RETRY_MS);
    let stored = false;
    const write = refusedWrite(1, () => {
      stored = true;
    });
    writes.enqueue('open', write.run);
    await write.tries[0];
    clock.advance(RETRY_MS - 1);
    expect(write.tries).toHaveLength(1);
    clock.advance(1);
    expect(write.tries).toHaveLength(2);
    await writes.idle();
    expect(stored).toBe(true);
  });

  it('close waits a bounded time and says how many were left unstored', async () => {
    const writes = new AlertWrites(silentLogger(), new ManualClock(0), RETRY_MS);
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
    const writes = new AlertWrites(silentLogger(), new ManualClock(0), RETRY_MS);
    writes.enqueue('refused', async () => {
      throw new Error('disk full');
    });
    // without the bound this would wait for ever (the test's own timeout would fail it); the bound is a
    // real timer, as a reader waits in real time for records that do not answer
    await writes.idle(30);
    expect(writes.pending).toBe(1);
    await writes.close(1);
  });
});
