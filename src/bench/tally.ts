/** Running counts and histograms of one slice of a run; `stats()` freezes them into plain data. */
import { LatencyHistogram } from "./histogram.ts";
import type { GroupStats, RequestResult } from "./result.ts";

export class Tally {
  requests = 0;
  errors = 0;
  readonly status: Record<string, number> = {};
  readonly errorKinds: Record<string, number> = {};
  private readonly latency = new LatencyHistogram();
  private readonly latencyOk = new LatencyHistogram();
  private readonly ttft = new LatencyHistogram();

  add(r: RequestResult): void {
    this.requests++;
    if (r.status === 0) {
      this.errors++;
      const kind = r.error ?? "error";
      this.errorKinds[kind] = (this.errorKinds[kind] ?? 0) + 1;
      return;
    }
    const code = String(r.status);
    this.status[code] = (this.status[code] ?? 0) + 1;
    this.latency.record(r.latencyMs);
    if (r.status >= 200 && r.status < 300) {
      this.latencyOk.record(r.latencyMs);
      if (r.ttftMs !== undefined) this.ttft.record(r.ttftMs);
    }
  }

  stats(): GroupStats {
    return {
      requests: this.requests,
      status: sortedCounts(this.status),
      errors: this.errors,
      error_kinds: { ...this.errorKinds },
      latency: this.latency.summary(),
      latency_ok: this.latencyOk.summary(),
      ttft: this.ttft.summary(),
    };
  }
}

/** Status codes in numeric order, so reports and JSON read the same every time. */
function sortedCounts(c: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of Object.keys(c).sort((a, b) => Number(a) - Number(b))) out[k] = c[k]!;
  return out;
}

/** One Tally per name, created on first use. */
export class TallyMap {
  private readonly m = new Map<string, Tally>();

  get(name: string): Tally {
    let t = this.m.get(name);
    if (!t) this.m.set(name, (t = new Tally()));
    return t;
  }

  stats(): Record<string, GroupStats> {
    const out: Record<string, GroupStats> = {};
    for (const [k, t] of this.m) out[k] = t.stats();
    return out;
  }
}

/** 2xx answers of a group: what the server accepted. */
export function okCount(g: GroupStats): number {
  let n = 0;
  for (const [code, k] of Object.entries(g.status)) if (Number(code) >= 200 && Number(code) < 300) n += k;
  return n;
}
