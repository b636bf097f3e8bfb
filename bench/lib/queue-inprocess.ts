/**
 * N requests waiting in one line, without sockets: this process calls the
 * handler directly (`gw.fetch(new Request(...))` for limitrate, the same
 * request path a socket feeds, queue and all), so N is not bounded by file
 * descriptors or ephemeral ports. Run as its own process so its RSS holds
 * nothing else. Prints one JSON InProcessResult line.
 *
 *   limitrate  provider spaced every --interval s, max_concurrent 1, upstream held:
 *              the first request stays in flight, the other N − 1 wait in the line
 *   minimal    the least a queueing proxy keeps per waiting request (the same logic
 *              as serve-minimal-queue.ts: body read and parsed, one promise in an array)
 *
 *   bun bench/lib/queue-inprocess.ts --impl limitrate --n 100000 --upstream http://127.0.0.1:PORT [--drain]
 * (the upstream is serve-recorder.ts: /bench/hold, /bench/release)
 */
import { parseArgs } from "node:util";
import { configSchema } from "../../src/config/schema.ts";
import { startGateway } from "../../src/gateway/server.ts";
import { minimalQueue } from "./minimal-queue.ts";
import { CHAT_PATH } from "./workload.ts";

export interface InProcessResult {
  readonly impl: string;
  readonly n: number;
  readonly rssBeforeKb: number;
  readonly rssFullKb: number;
  readonly heapBeforeKb: number;
  readonly heapFullKb: number;
  /** Waiting when measured (N − 1 expected: one is in flight). */
  readonly waiting: number;
  readonly fillMs: number;
  /** When --drain: 200 answers and how long the line took to empty after release; else every waiter got 503 on stop. */
  readonly answered200: number;
  readonly drainMs: number | null;
}

const { values } = parseArgs({
  options: {
    impl: { type: "string", default: "limitrate" },
    n: { type: "string", default: "100000" },
    upstream: { type: "string" },
    interval: { type: "string", default: "0.0001" },
    drain: { type: "boolean", default: false },
  },
});
if (!values.upstream) throw new Error("--upstream is required");
const upstream = values.upstream;
const n = Number(values.n);
const intervalS = Number(values.interval);
const FILL_LIMIT_MS = 120_000;
const DRAIN_LIMIT_MS = 600_000;
const ORIGIN = "http://127.0.0.1:1"; // never dialled: the handler is called directly

interface Impl {
  fetch(req: Request): Promise<Response>;
  waiting(): number;
  stop(): Promise<void>;
}

function limitrate(): Impl {
  const config = configSchema.parse({
    server: { host: "127.0.0.1", port: 0 },
    providers: [{
      name: "mock",
      base_url: `${upstream}/v1`,
      api_key: "sk-bench",
      models: ["gpt-4o-mini"],
      rate_limit: { mode: "spaced", interval_seconds: intervalS, max_concurrent: 1 },
    }],
  });
  const gw = startGateway(config, { drainMs: 1000 });
  const line = gw.runtime.providers[0]!.line!;
  return { fetch: gw.fetch, waiting: () => line.stats().queued + line.stats().claimed, stop: () => gw.stop() };
}

function minimal(): Impl {
  const q = minimalQueue(upstream, intervalS * 1000);
  return { fetch: q.fetch, waiting: () => q.waiting, stop: async () => q.close() };
}

const post = (path: string) => fetch(upstream + path, { method: "POST" }).then((r) => r.arrayBuffer());
const body = (seq: number) => JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hello there" }], max_tokens: 16, seq });
/** As a client sends it over HTTP: with a content-length (without one the gateway takes its chunked-body path). */
const request = (seq: number) => {
  const b = body(seq);
  return new Request(ORIGIN + CHAT_PATH, { method: "POST", headers: { "content-type": "application/json", "content-length": String(Buffer.byteLength(b)) }, body: b });
};

/** Settled memory: a full collection first, so the figures are live objects rather than garbage. */
function memory(): { rssKb: number; heapKb: number } {
  Bun.gc(true);
  const m = process.memoryUsage();
  return { rssKb: m.rss / 1024, heapKb: m.heapUsed / 1024 };
}

const impl = values.impl === "minimal" ? minimal() : limitrate();
try {
  // Warm-up: the whole path runs (and JITs) before the "before" reading.
  for (let i = 0; i < 50; i++) {
    await Promise.all(Array.from({ length: 8 }, (_, j) => impl.fetch(request(-1 - i * 8 - j)).then((r) => r.arrayBuffer())));
  }
  await post("/bench/reset");
  await post("/bench/hold");
  await Bun.sleep(50);
  const before = memory();

  const t0 = performance.now();
  const pending: Promise<number>[] = [];
  for (let i = 0; i < n; i++) {
    pending.push(impl.fetch(request(i)).then(async (r) => {
      await r.arrayBuffer();
      return r.status;
    }, () => 0));
    // Let the line take each batch in, as sockets would deliver them over time.
    if (i % 1000 === 999) await Bun.sleep(0);
  }
  while (impl.waiting() < n - 1) {
    if (performance.now() - t0 > FILL_LIMIT_MS) throw new Error(`line did not fill within ${FILL_LIMIT_MS} ms (${impl.waiting()} waiting)`);
    await Bun.sleep(10);
  }
  const fillMs = performance.now() - t0;
  const waiting = impl.waiting();
  const full = memory();

  let drainMs: number | null = null;
  if (values.drain) {
    const tr = performance.now();
    await post("/bench/release");
    const done = await Promise.race([Promise.all(pending), Bun.sleep(DRAIN_LIMIT_MS).then(() => null)]);
    if (done === null) throw new Error(`line did not drain within ${DRAIN_LIMIT_MS} ms`);
    drainMs = performance.now() - tr;
  } else {
    await impl.stop(); // every waiter answered at once (503); the held one after release
    await post("/bench/release");
  }
  const statuses = await Promise.all(pending);
  const result: InProcessResult = {
    impl: values.impl ?? "limitrate",
    n,
    rssBeforeKb: before.rssKb,
    rssFullKb: full.rssKb,
    heapBeforeKb: before.heapKb,
    heapFullKb: full.heapKb,
    waiting,
    fillMs,
    answered200: statuses.filter((s) => s === 200).length,
    drainMs,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  await impl.stop();
  await post("/bench/release").catch(() => {});
}
process.exit(0);
