/**
 * For the conditions checked on the timer (refused-message spike, store backlog): an active alert clears
 * only once its condition has been false for the rule's `clearForMinutes` of clock time, so a backlog or a
 * refusal rate hovering around its limit keeps one alert open instead of opening and clearing it at every
 * check. Bounded: one entry per (rule, subject) whose alert is waiting to clear, removed when it clears or
 * the condition holds again.
 */
export class ClearDelay {
  private readonly since = new Map<string, number>();

  /** Whether the alert should be (or stay) active: `holds`, or not yet false for `clearForMinutes`. */
  active(key: string, holds: boolean, isActive: boolean, now: number, clearForMinutes: number): boolean {
    if (holds || !isActive) {
      this.since.delete(key);
      return holds;
    }
    const since = this.since.get(key) ?? now;
    if (now - since < clearForMinutes * 60_000) {
      this.since.set(key, since);
      return true;
    }
    this.since.delete(key);
    return false;
  }

  forget(ruleId: string): void {
    for (const k of this.since.keys()) if (k.startsWith(`${ruleId}\u0000`)) this.since.delete(k);
  }
}
