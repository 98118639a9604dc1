/**
 * The clock is passed in so that windows, months and late data are tested with a fake clock, not sleeps; its
 * timers too, so that what runs on a schedule (a month close, a flush) runs when a test moves the time.
 */
export interface Clock {
  now(): number;
  /**
   * Calls `fn` once, `ms` from now on this clock. The timer never keeps the process alive: whatever must
   * finish is finished by its owner's close.
   */
  setTimeout(fn: () => void, ms: number): ClockTimer;
  /** Calls `fn` every `ms` (at least 1) on this clock until cancelled; unref'd like setTimeout. */
  setInterval(fn: () => void, ms: number): ClockTimer;
}

export interface ClockTimer {
  cancel(): void;
}

function unrefd(handle: NodeJS.Timeout, clear: (h: NodeJS.Timeout) => void): ClockTimer {
  handle.unref();
  return { cancel: () => clear(handle) };
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => unrefd(setTimeout(fn, ms), clearTimeout),
  setInterval: (fn, ms) => unrefd(setInterval(fn, Math.max(1, ms)), clearInterval),
};

interface PendingTimer {
  at: number;
  /** null for a one-shot timer */
  every: number | null;
  fn: () => void;
  /** creation order: timers due at the same instant run in the order they were set */
  order: number;
}

/**
 * A clock tests move by hand. Moving it runs the timers that fall due on the way, in time order, each
 * seeing `now()` at its own due time and an interval once however many periods the move spans (a test
 * jumping a year must not run a one-minute check half a million times); what they start asynchronously
 * is awaited by the test.
 */
export class ManualClock implements Clock {
  private readonly timers = new Set<PendingTimer>();
  private created = 0;

  constructor(private current: number) {}

  now(): number {
    return this.current;
  }

  set(ms: number): void {
    // moving back runs nothing: a timer is due at an instant, not after a duration of wall time
    for (let due = this.nextDue(ms); due !== undefined && ms >= this.current; due = this.nextDue(ms)) {
      this.current = due.at;
      if (due.every === null) this.timers.delete(due);
      // a jump over several periods runs an interval once, as Node does after the event loop was held up
      else due.at += due.every * (Math.floor((ms - due.at) / due.every) + 1);
      due.fn();
    }
    this.current = ms;
  }

  advance(ms: number): void {
    this.set(this.current + ms);
  }

  setTimeout(fn: () => void, ms: number): ClockTimer {
    return this.add({ at: this.current + Math.max(0, ms), every: null, fn, order: this.created++ });
  }

  setInterval(fn: () => void, ms: number): ClockTimer {
    const every = Math.max(1, ms);
    return this.add({ at: this.current + every, every, fn, order: this.created++ });
  }

  /** Timers not yet run or cancelled. */
  get pendingTimers(): number {
    return this.timers.size;
  }

  private add(t: PendingTimer): ClockTimer {
    this.timers.add(t);
    return { cancel: () => this.timers.delete(t) };
  }

  private nextDue(until: number): PendingTimer | undefined {
    let next: PendingTimer | undefined;
    for (const t of this.timers)
      if (
        t.at <= until &&
        (next === undefined || t.at < next.at || (t.at === next.at && t.order < next.order))
      )
        next = t;
    return next;
  }
}
