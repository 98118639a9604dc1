/**
 * The registry's last-seen batching: `markSeen` runs for every message, so it only notes the device;
 * `flush` writes the newest time of every noted device in one store call.
 *
 * A batch leaves the dirty set when its write starts and goes back if the write fails, so a time marked
 * meanwhile is never lost and a failed flush is retried on the next one. The set holds at most one entry
 * per device: bounded by the registry's size.
 */
export class SeenWriter {
  private readonly dirty = new Set<string>();
  private current: Promise<number> | null = null;

  constructor(
    private readonly write: (batch: Array<[id: string, at: number]>) => Promise<void>,
    private readonly lastSeenOf: (id: string) => number | null | undefined,
  ) {}

  mark(id: string): void {
    this.dirty.add(id);
  }

  /** Devices whose time is not written yet. */
  get pending(): number {
    return this.dirty.size;
  }

  /** The write in progress, if any. */
  get inFlight(): Promise<number> | null {
    return this.current;
  }

  /** Writes what is dirty now; resolves to how many devices were written. */
  flush(): Promise<number> {
    if (this.dirty.size === 0) return Promise.resolve(0);
    const batch: Array<[string, number]> = [];
    for (const id of this.dirty) {
      const at = this.lastSeenOf(id);
      if (at !== null && at !== undefined) batch.push([id, at]);
    }
    this.dirty.clear();
    const written = this.write(batch).then(
      () => batch.length,
      (err: unknown) => {
        for (const [id] of batch) this.dirty.add(id);
        throw err;
      },
    );
    this.current = written;
    const settled = () => {
      if (this.current === written) this.current = null;
    };
    written.then(settled, settled);
    return written;
  }
}
