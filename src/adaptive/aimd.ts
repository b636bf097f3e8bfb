/**
 * Finds a provider's real request rate when nobody says what it is: additive
 * increase while answers come back fine, multiplicative decrease on a 429 —
 * the rule TCP uses for congestion, applied to requests per minute.
 *
 * A pure state machine: `now` (epoch ms) comes in with every call; no timers,
 * no clock. Time that steps backwards is read as the latest time seen.
 *
 *   const aimd = new AimdController({ initialRpm: 500, minRpm: 10, maxRpm: 500,
 *     increaseRpm: 10, decreaseFactor: 0.9, windowMs: 10_000 });
 *   // per answer:   status === 429 ? aimd.onThrottle(now) : aimd.onSuccess(now)
 *   // when pacing:  interval = 60_000 / aimd.rpm(now)
 *
 * Three refinements over textbook AIMD, each because provider limits are
 * counted over a sliding minute, so a 429 speaks about the last 60 s, not
 * about this instant:
 *
 * 1. **A cut aims at what the provider accepted**, not only at the current
 *    rate. Once the controller has watched a full minute in which it sent at
 *    least half its rate, a 429 means "the last minute's accepted requests
 *    are the most I get": the new rate is `min(rate, decreaseFactor ×
 *    acceptedLastMinute)`. From far above the limit that lands at once near
 *    the limit instead of cutting again and again; right after a cut, the
 *    429s that still come while the provider's minute drains the earlier
 *    surplus (it remembers the old rate for up to 60 s) cut little or
 *    nothing more, since what was accepted has hardly moved. When most of
 *    the last minute was 429s (providers that count refused requests too,
 *    as OpenAI does, can refuse everything for a while) the peak accepted
 *    over the last 2 minutes stands in, so the rate does not collapse.
 *    Before a telling minute (a young controller, or one mostly idle) the
 *    cut is the plain `rate × decreaseFactor`.
 * 2. **At most one cut per `windowMs`**: a burst of 429s from one overload
 *    cuts once.
 * 3. **Slow start** (optional, on by default): until the first 429 the rate
 *    doubles per window instead of growing by `increaseRpm`, so a start far
 *    below the limit converges in a few windows rather than hours.
 *
 * An increase needs evidence: a window with no 429 in which at least half of
 * the allowed requests were actually sent. An idle gateway does not drift
 * up to maxRpm and then hit the provider with it.
 *
 * Choosing increaseRpm: the provider's minute answers a rise only after up
 * to 60 s, so keep the rise per minute (increaseRpm × 60 s / windowMs) to
 * about a tenth of the smallest limit expected; larger steps overshoot by
 * several steps before the first 429 (harmless where refused requests are
 * not counted, a burst of 429s where they are).
 *
 * Choosing decreaseFactor: in the steady state the rate saws between
 * `decreaseFactor × L` and just above the true limit L, so the rate accepted
 * averages about `(1 + decreaseFactor) / 2 × L`: 0.5 (TCP's factor, fastest
 * to share a key fairly among several gateways) gives ~75 % of L; 0.8–0.9
 * gives 90–95 % when one gateway owns the key.
 */

export interface AimdOptions {
  /** Starting rate, requests per minute (clamped into [minRpm, maxRpm]). */
  readonly initialRpm: number;
  /** Floor, rpm (> 0): the controller always lets something through to learn from. */
  readonly minRpm: number;
  /** Ceiling, rpm: e.g. the provider's published limit, or our own configured rate. */
  readonly maxRpm: number;
  /** Added per window without a 429 in which the rate was used, rpm. */
  readonly increaseRpm: number;
  /** Multiplier on a 429, in (0, 1), e.g. 0.5 or 0.9 (see "Choosing decreaseFactor"). */
  readonly decreaseFactor: number;
  /** How often an increase is considered, and the least time between two cuts, ms (e.g. 10 000). */
  readonly windowMs: number;
  /** Double per window until the first 429, instead of adding increaseRpm (default true). */
  readonly slowStart?: boolean;
}

/** What the controller knows, for stats and logs. */
export interface AimdSnapshot {
  readonly rpm: number;
  readonly slowStart: boolean;
  /** Answers that were not 429, in the last minute. */
  readonly acceptedLastMinute: number;
  /** Answers of any kind, in the last minute. */
  readonly sentLastMinute: number;
  /** When the rate was last cut (epoch ms); null if never. */
  readonly lastCutAt: number | null;
}

/** Providers count their limits per minute; so does the controller's memory of what they accepted. */
const MINUTE_MS = 60_000;
const SEGMENT_MS = 1_000;
const SEGMENTS = MINUTE_MS / SEGMENT_MS;
/** How long the peak of accepted requests per minute is remembered, ms. */
const PEAK_MEMORY_MS = 2 * MINUTE_MS;
/** A window counts as used, and the last minute as telling, when at least this share of the rate was sent. */
const USED_SHARE = 0.5;

export class AimdController {
  private readonly opts: Required<AimdOptions>;
  private rate: number;
  private inSlowStart: boolean;
  /** Latest time seen; null before the first call. */
  private last: number | null = null;
  private watchedSince = 0;
  private windowStart = 0;
  private windowSent = 0;
  private windowThrottled = false;
  private lastCutAt: number | null = null;
  /** Per 1-s segment of the last minute: answers not 429, and all answers. */
  private readonly accepted = new Uint32Array(SEGMENTS);
  private readonly sent = new Uint32Array(SEGMENTS);
  private acceptedTotal = 0;
  private sentTotal = 0;
  /** Index (time / SEGMENT_MS) of the newest segment. */
  private segment = 0;
  /** Highest acceptedTotal lately, and when it was last reached. */
  private peak = 0;
  private peakAt = 0;

  /** Throws a RangeError on options that cannot work (a config error, found once at start). */
  constructor(opts: AimdOptions) {
    const o = { slowStart: true, ...opts };
    check(o.minRpm > 0 && Number.isFinite(o.minRpm), "minRpm must be a positive number");
    check(o.maxRpm >= o.minRpm && Number.isFinite(o.maxRpm), "maxRpm must be a number ≥ minRpm");
    check(o.increaseRpm >= 0 && Number.isFinite(o.increaseRpm), "increaseRpm must be ≥ 0");
    check(o.decreaseFactor > 0 && o.decreaseFactor < 1, "decreaseFactor must be in (0, 1)");
    check(o.windowMs > 0 && Number.isFinite(o.windowMs), "windowMs must be a positive number");
    check(Number.isFinite(o.initialRpm), "initialRpm must be a number");
    this.opts = o;
    this.rate = clamp(o.initialRpm, o.minRpm, o.maxRpm);
    this.inSlowStart = o.slowStart;
  }

  /** An answer that was not a 429 (call once per answer, at the time it came back). */
  onSuccess(now: number): void {
    this.advance(now);
    this.windowSent++;
    this.count(true);
  }

  /**
   * A 429. Cuts the rate unless a cut happened less than windowMs ago or the
   * rate is already below what the provider accepted (see the module notes).
   * Returns whether the rate was cut.
   */
  onThrottle(now: number): boolean {
    const t = this.advance(now);
    this.windowSent++;
    this.count(false);
    this.windowThrottled = true;
    this.inSlowStart = false;
    if (this.lastCutAt !== null && t < this.lastCutAt + this.opts.windowMs) return false;
    const target = this.telling(t) ? Math.min(this.rate, this.opts.decreaseFactor * this.acceptedEstimate(t)) : this.rate * this.opts.decreaseFactor;
    const next = Math.max(this.opts.minRpm, target);
    if (next >= this.rate) return false;
    this.rate = next;
    this.lastCutAt = t;
    return true;
  }

  /** Whether the last minute shows what the provider accepts: watched whole, and the rate was used. */
  private telling(t: number): boolean {
    return t - this.watchedSince >= MINUTE_MS && this.sentTotal >= USED_SHARE * this.rate;
  }

  /**
   * What the provider accepts per minute, from the last minute. When most of
   * that minute was 429s, our own overload may have crowded it (providers
   * that count refused requests too), so the recent peak counts as well.
   */
  private acceptedEstimate(t: number): number {
    const crowded = this.acceptedTotal < USED_SHARE * this.sentTotal;
    const peak = t - this.peakAt <= PEAK_MEMORY_MS ? this.peak : 0;
    return crowded ? Math.max(this.acceptedTotal, peak) : this.acceptedTotal;
  }

  /** The rate to send at now, requests per minute (may have a fraction). */
  rpm(now: number): number {
    this.advance(now);
    return this.rate;
  }

  snapshot(now: number): AimdSnapshot {
    this.advance(now);
    return {
      rpm: this.rate,
      slowStart: this.inSlowStart,
      acceptedLastMinute: this.acceptedTotal,
      sentLastMinute: this.sentTotal,
      lastCutAt: this.lastCutAt,
    };
  }

  /** Moves time to `now` (never backwards): closes finished windows, drops segments older than a minute. */
  private advance(now: number): number {
    if (this.last === null) {
      this.last = now;
      this.watchedSince = now;
      this.windowStart = now;
      this.segment = Math.floor(now / SEGMENT_MS);
      return now;
    }
    const t = Math.max(now, this.last);
    this.last = t;
    this.dropOldSegments(Math.floor(t / SEGMENT_MS));
    if (t >= this.windowStart + this.opts.windowMs) {
      this.closeWindow();
      // Windows after the first closed one had no answers at all: idle, nothing to learn.
      this.windowStart += Math.floor((t - this.windowStart) / this.opts.windowMs) * this.opts.windowMs;
    }
    return t;
  }

  private closeWindow(): void {
    const allowed = (this.rate * this.opts.windowMs) / MINUTE_MS;
    const used = this.windowSent > 0 && this.windowSent >= USED_SHARE * allowed;
    if (used && !this.windowThrottled) {
      const grown = this.inSlowStart ? this.rate * 2 : this.rate + this.opts.increaseRpm;
      this.rate = Math.min(this.opts.maxRpm, grown);
    }
    this.windowSent = 0;
    this.windowThrottled = false;
  }

  private dropOldSegments(seg: number): void {
    if (seg <= this.segment) return;
    if (seg - this.segment >= SEGMENTS) {
      this.accepted.fill(0);
      this.sent.fill(0);
      this.acceptedTotal = this.sentTotal = 0;
    } else {
      for (let s = this.segment + 1; s <= seg; s++) {
        const i = slot(s);
        this.acceptedTotal -= this.accepted[i]!;
        this.sentTotal -= this.sent[i]!;
        this.accepted[i] = this.sent[i] = 0;
      }
    }
    this.segment = seg;
  }

  private count(ok: boolean): void {
    const i = slot(this.segment);
    this.sent[i]!++;
    this.sentTotal++;
    if (ok) {
      this.accepted[i]!++;
      this.acceptedTotal++;
      if (this.acceptedTotal >= this.peak || this.last! - this.peakAt > PEAK_MEMORY_MS) {
        this.peak = this.acceptedTotal;
        this.peakAt = this.last!;
      }
    }
  }
}

function check(ok: boolean, message: string): void {
  if (!ok) throw new RangeError(`AimdController: ${message}`);
}

/** Ring index of a segment (times before 1970 included). */
function slot(segment: number): number {
  return ((segment % SEGMENTS) + SEGMENTS) % SEGMENTS;
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}
