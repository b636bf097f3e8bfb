/**
 * What the mock saw, for tests and benchmarks to check against (for example
 * that a shaping gateway really spaced its calls: see `arrivals`).
 */

export interface MockCounts {
  /** Every /v1 request, answered or refused (the /mock control routes are not counted). */
  requests: number;
  by_path: Record<string, number>;
  by_status: Record<string, number>;
  /** Tokens of admitted requests only; a 429 adds nothing. */
  prompt_tokens: number;
  completion_tokens: number;
  rejected_429: number;
  in_flight: number;
  max_in_flight: number;
  first_request_at: number | null;
  last_request_at: number | null;
  /** Arrival times (ms, the mock's clock) of requests not refused with 429; last 10 000. */
  arrivals: number[];
}

const MAX_ARRIVALS = 10_000;

export class CountsRecorder {
  private c: MockCounts = CountsRecorder.empty();

  private static empty(): MockCounts {
    return {
      requests: 0,
      by_path: {},
      by_status: {},
      prompt_tokens: 0,
      completion_tokens: 0,
      rejected_429: 0,
      in_flight: 0,
      max_in_flight: 0,
      first_request_at: null,
      last_request_at: null,
      arrivals: [],
    };
  }

  begin(path: string, now: number): void {
    const c = this.c;
    c.requests++;
    c.by_path[path] = (c.by_path[path] ?? 0) + 1;
    if (c.first_request_at === null) c.first_request_at = now;
    c.last_request_at = now;
    if (++c.in_flight > c.max_in_flight) c.max_in_flight = c.in_flight;
  }

  /** Called once the status is known; a 429 is neither an arrival nor token usage. */
  answered(status: number, now: number): void {
    const c = this.c;
    const key = String(status);
    c.by_status[key] = (c.by_status[key] ?? 0) + 1;
    if (status === 429) {
      c.rejected_429++;
      return;
    }
    c.arrivals.push(now);
    // Trim in batches so the hot path stays an amortised push.
    if (c.arrivals.length >= 2 * MAX_ARRIVALS) c.arrivals = c.arrivals.slice(-MAX_ARRIVALS);
  }

  usage(promptTokens: number, completionTokens: number): void {
    this.c.prompt_tokens += promptTokens;
    this.c.completion_tokens += completionTokens;
  }

  /** The request's body is fully sent (or the client left). */
  end(): void {
    this.c.in_flight--;
  }

  snapshot(): MockCounts {
    const c = this.c;
    return {
      ...c,
      by_path: { ...c.by_path },
      by_status: { ...c.by_status },
      arrivals: c.arrivals.slice(-MAX_ARRIVALS),
    };
  }

  /** Starts afresh, but requests still running keep their in-flight slot. */
  reset(): void {
    const inFlight = this.c.in_flight;
    this.c = CountsRecorder.empty();
    this.c.in_flight = inFlight;
    this.c.max_in_flight = inFlight;
  }
}
