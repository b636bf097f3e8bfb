/** A fixed-bucket histogram (Prometheus style): O(1) to record, small to snapshot. */
export interface HistogramSnapshot {
  /** Upper bounds in ms, ascending; an implicit +Inf bucket follows. */
  readonly le: readonly number[];
  /** Cumulative counts per bound, then the +Inf total. */
  readonly counts: readonly number[];
  readonly sum: number;
  readonly count: number;
}

export const LATENCY_BUCKETS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 120000];

export class Histogram {
  private readonly buckets: Float64Array;
  private sum = 0;
  private count = 0;

  constructor(private readonly le: readonly number[] = LATENCY_BUCKETS_MS) {
    this.buckets = new Float64Array(le.length);
  }

  record(ms: number): void {
    this.sum += ms;
    this.count++;
    const le = this.le;
    for (let i = 0; i < le.length; i++) {
      if (ms <= le[i]!) {
        this.buckets[i] = this.buckets[i]! + 1;
        return;
      }
    }
  }

  snapshot(): HistogramSnapshot {
    const counts: number[] = [];
    let acc = 0;
    for (const b of this.buckets) counts.push((acc += b));
    counts.push(this.count);
    return { le: this.le, counts, sum: Math.round(this.sum * 1000) / 1000, count: this.count };
  }
}

/** Approximate quantile from a snapshot (upper bound of the bucket holding it). */
export function quantile(h: HistogramSnapshot, q: number): number | null {
  if (h.count === 0) return null;
  const rank = q * h.count;
  for (let i = 0; i < h.le.length; i++) if (h.counts[i]! >= rank) return h.le[i]!;
  return h.le.at(-1) ?? null;
}
