/**
 * The shared concurrency leases one holder (a line, a key's slots) has out:
 * it takes them from the store, renews the live ones every third of their
 * time to live, and gives them back. A node that dies stops renewing, so its
 * leases expire (Store.takeLease).
 */
import type { LeaseCap, Store } from "../store/store.ts";

export const DEFAULT_LEASE_TTL_MS = 30_000;
/** A full shared cap sends no signal when another node frees a slot: ask again this often. */
export const LEASE_POLL_MS = 50;

export type LeaseTake = { readonly id: string } | { readonly retryInMs: number };

export class LeaseBook {
  private readonly live = new Set<string>();
  private renewTimer: ReturnType<typeof setInterval> | null = null;
  private seq = 0;
  private readonly prefix = crypto.randomUUID();

  /** `caps()`: the caps as they are now (a reload may change them). */
  constructor(
    private readonly store: Store,
    private readonly caps: () => readonly LeaseCap[],
    private readonly ttlMs = DEFAULT_LEASE_TTL_MS,
  ) {}

  /** One lease under every cap, or when to ask again. Rejects when the store fails (its on_failure rule). */
  async take(): Promise<LeaseTake> {
    const id = `${this.prefix}:${++this.seq}`;
    const wait = await this.store.takeLease!(this.caps(), id, this.ttlMs);
    if (wait > 0) return { retryInMs: Math.min(wait, LEASE_POLL_MS) };
    this.live.add(id);
    this.renewing();
    return { id };
  }

  /** Gives a lease back (if the store cannot be told, it expires). */
  drop(id: string): void {
    if (!this.live.delete(id)) return;
    if (this.live.size === 0 && this.renewTimer) {
      clearInterval(this.renewTimer);
      this.renewTimer = null;
    }
    void this.store.dropLease?.(this.caps(), id).catch(() => {});
  }

  private renewing(): void {
    if (this.renewTimer) return;
    this.renewTimer = setInterval(() => {
      if (this.live.size > 0) void this.store.renewLeases?.(this.caps(), [...this.live], this.ttlMs).catch(() => {});
    }, this.ttlMs / 3);
    this.renewTimer.unref?.();
  }
}
