/**
 * In-process limit decisions per second: one key policy with all per-minute
 * dimensions (rpm, input_tpm, output_tpm, tpm) plus a day window, decided
 * atomically, over 100 keys — side by side with a single-dimension policy.
 * Target (issue 4): ≥ 2,000,000 decisions/s for the all-dimension policy.
 *
 *   bun bench/decisions.ts [--seconds 2]
 */
import type { Clock } from "../src/clock.ts";
import type { Cost } from "../src/core/policy.ts";
import { windowPolicy } from "../src/limiter/policies.ts";
import { MemoryStore } from "../src/store/memory-store.ts";
import type { LimiterRef } from "../src/store/store.ts";
import { headline, type Headline } from "./lib/summary.ts";

const TARGET_PER_S = 2_000_000;

/** A clock that moves 10 µs per read: windows advance as in real traffic, without syscalls. */
function steppingClock(): Clock {
  let t = 1_800_000_000_000;
  return { now: () => (t += 0.01) };
}

function run(label: string, refs: LimiterRef[], cost: Cost, seconds: number): number {
  const store = new MemoryStore(steppingClock());
  const items = refs.map((ref) => [{ ref, cost }] as const);
  let n = 0;
  let admitted = 0;
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < 10_000; i++) {
      if (store.acquireNow(items[n % items.length]!, 0).allowed) admitted++;
      n++;
    }
  }
  const rate = n / seconds;
  console.log(`${label.padEnd(44)} ${Math.round(rate).toLocaleString("en-US").padStart(12)} decisions/s  (${((admitted / n) * 100).toFixed(1)}% admitted)`);
  return rate;
}

const huge = 1e12; // limits high enough that every decision checks and charges every dimension
const all = windowPolicy({ rpm: huge, input_tpm: huge, output_tpm: huge, tpm: huge, rpd: huge });
const one = windowPolicy({ rpm: huge });
const keys = (policy: typeof all) => Array.from({ length: 100 }, (_, i) => ({ id: `key:${i}`, policy }));
const cost: Cost = { requests: 1, input_tokens: 120, output_tokens: 256 };

export async function runDecisions(seconds = 2): Promise<Headline[]> {
  console.log(`\n## 2a. in-process decisions (memory store, synchronous acquireNow), ${seconds} s each, 100 keys`);
  const single = run("rpm only (1 window)", keys(one), cost, seconds);
  const multi = run("rpm+input_tpm+output_tpm+tpm+rpd (5 windows)", keys(all), cost, seconds);
  console.log(`ratio all-dimensions / single: ${(multi / single).toFixed(2)}  target ≥ 2,000,000/s: ${multi >= TARGET_PER_S ? "ok" : "BELOW"}`);
  return [
    headline("2 decisions", "memory, 5 windows per decision: decisions/s", Math.round(multi).toLocaleString("en-US"), "≥ 2,000,000", multi >= TARGET_PER_S),
    headline("2 decisions", "memory, 5 windows / 1 window", `${(multi / single).toFixed(2)}×`),
  ];
}

if (import.meta.main) {
  const i = process.argv.indexOf("--seconds");
  await runDecisions((i > 0 ? Number(process.argv[i + 1]) : 2) || 2);
}
