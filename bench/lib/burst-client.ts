/**
 * Opens N chat requests at once against a gateway, as its own process, each
 * body tagged `"seq": i`. Requests go in batches; before the next batch the
 * client waits until the gateway's stats count the whole batch, so batch k
 * has certainly arrived before batch k+1 (arrival order inside a batch is up
 * to the network stack). Prints one JSON BurstResult line when all answered.
 *
 *   bun bench/lib/burst-client.ts --gateway http://127.0.0.1:PORT --n 5000 --batch 500
 */
import { parseArgs } from "node:util";
import { CHAT_PATH } from "./workload.ts";

export interface BurstResult {
  readonly sent: number;
  /** status (or "error") → count */
  readonly statuses: Record<string, number>;
  /** seq values in the order their answers completed here. */
  readonly completionOrder: number[];
  /** ms from the first request to the gateway counting the last one. */
  readonly fillMs: number;
  /** ms from the first request to the last answer. */
  readonly totalMs: number;
  readonly batch: number;
}

interface StatsView {
  readonly providers: readonly { readonly requests: number }[];
}

const { values } = parseArgs({
  options: {
    gateway: { type: "string" },
    n: { type: "string", default: "5000" },
    batch: { type: "string", default: "500" },
    "timeout-ms": { type: "string", default: "180000" },
  },
});
if (!values.gateway) throw new Error("--gateway is required");
const gateway = values.gateway;
const n = Number(values.n);
const batch = Number(values.batch);
const timeoutMs = Number(values["timeout-ms"]);
/** Per batch: how long the gateway may take to count it before we give up. */
const BATCH_ARRIVAL_LIMIT_MS = 15_000;

async function counted(): Promise<number> {
  const res = await fetch(`${gateway}/admin/stats`);
  const s = (await res.json()) as StatsView;
  return s.providers.reduce((a, p) => a + p.requests, 0);
}

const statuses: Record<string, number> = {};
const completionOrder: number[] = [];
const signal = AbortSignal.timeout(timeoutMs);
const body = (seq: number) =>
  JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hello there" }], max_tokens: 16, seq });

async function one(seq: number): Promise<void> {
  let key: string;
  try {
    const res = await fetch(gateway + CHAT_PATH, { method: "POST", headers: { "content-type": "application/json" }, body: body(seq), signal });
    await res.arrayBuffer();
    key = String(res.status);
  } catch {
    key = "error";
  }
  statuses[key] = (statuses[key] ?? 0) + 1;
  completionOrder.push(seq);
}

const base = await counted();
const t0 = performance.now();
const pending: Promise<void>[] = [];
for (let from = 0; from < n; from += batch) {
  const to = Math.min(n, from + batch);
  for (let i = from; i < to; i++) pending.push(one(i));
  const deadline = performance.now() + BATCH_ARRIVAL_LIMIT_MS;
  while ((await counted()) < base + to) {
    if (performance.now() > deadline) throw new Error(`gateway counted fewer than ${to} requests after ${BATCH_ARRIVAL_LIMIT_MS} ms`);
    await Bun.sleep(2);
  }
}
const fillMs = performance.now() - t0;
await Promise.all(pending);
const result: BurstResult = { sent: n, statuses, completionOrder, fillMs, totalMs: performance.now() - t0, batch };
process.stdout.write(`${JSON.stringify(result)}\n`);
