/**
 * A cap on requests in flight shared by several waiting lines (a provider's
 * max_concurrent across the lines of its models). Lines take a slot when
 * they release a request and give it back when its exchange ends; a freed
 * slot wakes every line that shares the gate, so none waits on a stale count.
 */
export class ConcurrencyGate {
  private inFlight = 0;
  private readonly waiters = new Set<() => void>();

  constructor(readonly max: number) {}

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
