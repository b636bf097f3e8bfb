/**
 * A latency histogram with logarithmic buckets (HDR-style): constant memory
 * whatever the run length, mergeable, and percentiles within ±0.5 %.
 *
 * Bucket i holds values in [MIN_MS·R^i, MIN_MS·R^(i+1)); a percentile is
 * reported as the geometric middle of its bucket, so the relative error is at
 * most √R − 1 ≈ 0.5 %. The exact min, max and sum are kept beside the buckets.
 */

/** Bucket growth factor: 1 % wide buckets → ±0.5 % error. */
const R = 1.01;
const LOG_R = Math.log(R);
/** Smallest value told apart from zero, ms (1 µs). */
const MIN_MS = 0.001;
/** Largest value with its own bucket, ms (~28 h); anything above lands in the last one. */
const MAX_MS = 1e8;
const BUCKETS = Math.ceil(Math.log(MAX_MS / MIN_MS) / LOG_R) + 1;

export interface Percentiles {
  readonly count: number;
  readonly min: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

export class LatencyHistogram {
  private readonly buckets = new Float64Array(BUCKETS);
  private n = 0;
  private sum = 0;
  private lo = Infinity;
  private hi = -Infinity;

  get count(): number {
    return this.n;
  }

  record(ms: number): void {
    if (!Number.isFinite(ms)) return;
    const v = ms < 0 ? 0 : ms;
    this.buckets[bucketOf(v)]!++;
    this.n++;
    this.sum += v;
    if (v < this.lo) this.lo = v;
    if (v > this.hi) this.hi = v;
  }

  merge(other: LatencyHistogram): void {
    for (let i = 0; i < BUCKETS; i++) this.buckets[i]! += other.buckets[i]!;
    this.n += other.n;
    this.sum += other.sum;
    this.lo = Math.min(this.lo, other.lo);
    this.hi = Math.max(this.hi, other.hi);
  }

  /**
   * Nearest-rank percentile (p in 0..100): the value of the ⌈p/100·n⌉-th
   * smallest sample, within ±0.5 %; clamped to the exact min and max.
   */
  percentile(p: number): number {
    if (this.n === 0) return NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.n));
    if (rank >= this.n) return this.hi;
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.buckets[i]!;
      if (seen >= rank) return Math.min(this.hi, Math.max(this.lo, middleOf(i)));
    }
    return this.hi;
  }

  summary(): Percentiles | null {
    if (this.n === 0) return null;
    return {
      count: this.n,
      min: this.lo,
      mean: this.sum / this.n,
      p50: this.percentile(50),
      p90: this.percentile(90),
      p99: this.percentile(99),
      max: this.hi,
    };
  }
}

function bucketOf(v: number): number {
  if (v < MIN_MS) return 0;
  const i = Math.floor(Math.log(v / MIN_MS) / LOG_R) + 1;
  return i >= BUCKETS ? BUCKETS - 1 : i;
}

/** Bucket 0 holds [0, MIN_MS); bucket i ≥ 1 holds [MIN_MS·R^(i−1), MIN_MS·R^i). */
function middleOf(i: number): number {
  if (i === 0) return 0;
  return MIN_MS * Math.pow(R, i - 0.5);
}

/** Exact nearest-rank percentile of an ascending array (the reference the histogram approximates). */
export function exactPercentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}
