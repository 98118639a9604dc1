/**
 * A FIFO with a hard size limit that drops the OLDEST item when full (a device keeps its newest readings:
 * they are the ones still inside the platform's late window). Drops are counted, never silent.
 * Ring buffer: push and shift are O(1), memory is allocated once.
 */
export class BoundedQueue<T> {
  private readonly items: (T | undefined)[];
  private head = 0;
  private count = 0;
  /** Items pushed out to make room since creation. */
  dropped = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError('capacity must be a positive integer');
    this.items = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Adds an item; returns the item it evicted, if the queue was full. */
  push(item: T): T | undefined {
    let evicted: T | undefined;
    if (this.count === this.capacity) {
      evicted = this.items[this.head];
      this.items[this.head] = undefined;
      this.head = (this.head + 1) % this.capacity;
      this.count--;
      this.dropped++;
    }
    this.items[(this.head + this.count) % this.capacity] = item;
    this.count++;
    return evicted;
  }

  /** Removes and returns up to `n` of the oldest items, oldest first. */
  take(n: number): T[] {
    const out: T[] = [];
    while (out.length < n && this.count > 0) {
      out.push(this.items[this.head] as T);
      this.items[this.head] = undefined;
      this.head = (this.head + 1) % this.capacity;
      this.count--;
    }
    return out;
  }

  /** Puts items back at the front (a send that could not start), dropping the oldest beyond capacity. */
  unshift(items: readonly T[]): void {
    for (let i = items.length - 1; i >= 0; i--) {
      if (this.count === this.capacity) {
        this.dropped++;
        continue;
      }
      this.head = (this.head - 1 + this.capacity) % this.capacity;
      this.items[this.head] = items[i] as T;
      this.count++;
    }
  }
}
