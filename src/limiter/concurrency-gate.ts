/**
 * A cap on requests in flight shared by several waiting lines (a provider's
 * max_concurrent across the lines of its models). Lines take a slot when
 * they release a request and give it back when its exchange ends; a freed
 * slot wakes every line that shares the gate, so none waits on a stale count.
 */
export class ConcurrencyGate {
  private inFlight = 0;
  private readonly waiters = new Set<() => void>();

  constructor(public max: number) {}

  /** A new cap (config reload); a higher one lets waiting lines go at once. */
  resize(max: number): void {
    const grew = max > this.max;
    this.max = max;
    if (grew) for (const wake of this.waiters) wake();
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
    for (const wake of this.waiters) wake();
  }

  /** Calls `wake` whenever a slot frees. */
  subscribe(wake: () => void): void {
    this.waiters.add(wake);
  }
}
