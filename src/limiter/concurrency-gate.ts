/**
 * A cap on requests in flight shared by several waiting lines (a provider's
 * max_concurrent across the lines of its models). A line holds a slot from
 * the moment its head is being decided until the exchange ends. A line
 * turned away for want of room asks to be woken once, at the next free slot:
 * waking only those (not every line with a queue) keeps a line that gives a
 * slot straight back (its head not yet due) from waking the others into an
 * endless round of asking the store.
 */
export class ConcurrencyGate {
  private inFlight = 0;
  private readonly blocked = new Set<() => void>();

  constructor(public max: number) {}

  /** A new cap (config reload); a higher one lets waiting lines go at once. */
  resize(max: number): void {
    const grew = max > this.max;
    this.max = max;
    if (grew) this.wakeBlocked();
  }

  get used(): number {
    return this.inFlight;
  }

  hasRoom(): boolean {
    return this.inFlight < this.max;
  }

  take(): void {
    this.inFlight++;
  }

  release(): void {
    this.inFlight--;
    this.wakeBlocked();
  }

  /** Calls `wake` once, when a slot next frees (the same function asked twice is called once). */
  whenFree(wake: () => void): void {
    this.blocked.add(wake);
  }

  private wakeBlocked(): void {
    if (this.blocked.size === 0) return;
    const wakes = [...this.blocked];
    this.blocked.clear();
    for (const wake of wakes) wake();
  }
}
