// Small helpers for the bench tests.
import type { GroupStats } from "../../src/bench/result.ts";

/** mulberry32: a repeatable Math.random replacement. */
export { mulberry32 as seeded } from "../core/prng.ts";

const lat = (p50: number, p90: number, p99: number, max: number, count: number) => ({
  count,
  min: p50 / 2,
  mean: p50,
  p50,
  p90,
  p99,
  max,
});

/** A hand-written group: `status` counts, `errors`, and latency figures. */
export function group(
  status: Record<string, number>,
  errors = 0,
  latency: [number, number, number, number] | null = [10, 20, 40, 50],
  ok: [number, number, number, number] | null = latency,
  ttft: [number, number, number, number] | null = null,
): GroupStats {
  const answered = Object.values(status).reduce((a, b) => a + b, 0);
  const okN = Object.entries(status).filter(([c]) => c.startsWith("2")).reduce((a, [, n]) => a + n, 0);
  return {
    requests: answered + errors,
    status,
    errors,
    error_kinds: errors > 0 ? { connection_refused: errors } : {},
    latency: latency ? lat(...latency, answered) : null,
    latency_ok: ok ? lat(...ok, okN) : null,
    ttft: ttft ? lat(...ttft, okN) : null,
  };
}

/** A free port on 127.0.0.1 that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const s = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("x") });
  const port = s.port!;
  await s.stop(true);
  return port;
}
