import { describe, expect, it } from 'vitest';
import { CityError } from '../../core/errors.ts';
import { SerialWrites } from './serial-writes.ts';

/** A write that finishes when the test says so. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

describe('SerialWrites', () => {
  it('runs writes one at a time in arrival order, a failed one not stopping the next', async () => {
    const writes = new SerialWrites('test', 100);
    const order: string[] = [];
    const first = gate();
    const a = writes.run(1, async () => {
      await first.promise;
      order.push('a');
      throw new Error('a failed');
    });
    const b = writes.run(1, async () => {
      order.push('b');
      return 'b';
    });
    expect(writes.pending).toBe(2);
    first.open();
    await expect(a).rejects.toThrow('a failed');
    expect(await b).toBe('b');
    expect(order).toEqual(['a', 'b']);
    expect(writes.pending).toBe(0);
  });

  it('refuses a write past the bound at once with a retryable INGEST_STORE_UNAVAILABLE', async () => {
    const writes = new SerialWrites('test', 10);
    const slow = gate();
    const held = writes.run(8, () => slow.promise);
    let refused: unknown;
    try {
      await writes.run(5, async () => undefined);
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(CityError);
    expect((refused as CityError).code).toBe('INGEST_STORE_UNAVAILABLE');
    expect((refused as CityError).retryable).toBe(true);
    expect(writes.pending).toBe(8);
    slow.open();
    await held;
    await writes.drained();
    // A batch larger than the bound still goes through when nothing waits: it cannot be split here.
    expect(await writes.run(50, async () => 'big')).toBe('big');
  });
});
