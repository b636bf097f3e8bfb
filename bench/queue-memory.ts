/**
 * What waiting costs: N requests parked in one provider's line.
 *
 * Set-up (each in its own process): a recording upstream, a limitrate
 * gateway whose provider is `spaced` (one request every --interval s) with
 * max_concurrent 1, and a burst client. The upstream holds its answers, so
 * the first request stays in flight and the other N − 1 wait in the line —
 * all of them at once, however long the client takes to open them. Then:
 *   - gateway RSS before (after a warm-up) and with the line full
 *   - latency of /admin/stats and /admin/health while N wait
 *   - release: the line drains at the spaced cadence; every request must get
 *     200 and reach the upstream in arrival order (FIFO)
 * The same run against a minimal queueing proxy (lib/serve-minimal-queue.ts)
 * gives the floor: what any Bun server pays to hold N requests open.
 *
 * Over HTTP, N is bounded by file descriptors (each waiting request holds a
 * socket on each side; ulimit -n is per process) and by the ~28k ephemeral
 * ports of one client address, so 100,000 waiting requests are measured
 * in-process (lib/queue-inprocess.ts): the handler is called directly with
 * Request objects, which runs the same line without sockets. The in-process
 * figures are JS heap and RSS after a full GC; they leave out what a parked
 * connection costs (the HTTP rows show that).
 *
 *   bun bench/queue-memory.ts [--short] [--n 10000] [--interval 0.0005] [--rounds 2] [--batch 1000] [--in-process 10000,100000]
 * (--batch 1 makes arrival order fully known, so FIFO is checked per request; filling is slower)
 */
import { presetArgs } from "./lib/cli.ts";
import type { BurstResult } from "./lib/burst-client.ts";
import { openFileLimit, rssKb, runScript, startServer, type ServerProc } from "./lib/proc.ts";
import type { InProcessResult } from "./lib/queue-inprocess.ts";
import { fmt, median, percentile, table } from "./lib/stats.ts";
import { headline, printSummary, type Headline } from "./lib/summary.ts";
import { CHAT_BODY, CHAT_PATH, fetchCapEnv } from "./lib/workload.ts";

export interface QueueOptions {
  readonly n: number;
  /** Client batch size: the client waits for the server to count each batch before the next. */
  readonly batch: number;
  /** Seconds between requests leaving the line (spaced mode). */
  readonly intervalS: number;
  /** Requests per admin endpoint while the line is full. */
  readonly adminSamples: number;
  /** Runs of each server, alternating; RSS figures are medians over them. */
  readonly rounds: number;
  /** Line lengths measured in-process (no sockets); empty = skip. */
  readonly inProcess: readonly number[];
  /** In-process: release the held answer and wait for all N to be answered 200 (else stop the line: 503s). */
  readonly inProcessDrain: boolean;
}

// The line drains one request per interval once released: 0.5 ms keeps 10,000 to a few seconds.
export const FULL: QueueOptions = { n: 10_000, batch: 1000, intervalS: 0.0005, adminSamples: 50, rounds: 2, inProcess: [10_000, 100_000], inProcessDrain: true };
export const SHORT: QueueOptions = { n: 10_000, batch: 1000, intervalS: 0.0005, adminSamples: 20, rounds: 1, inProcess: [10_000, 100_000], inProcessDrain: false };
const SECTION = "4 queue memory";
/** Per waiting request: 25 MB per 5,000 (the HTTP target), in KB. */
const TARGET_KB_PER_REQUEST = (25 * 1024) / 5000;

/** Targets: RSS growth for 5,000 waiting requests (scaled by N), admin answer time while they wait. */
const TARGET_MB_PER_5000 = 25;
const TARGET_ADMIN_MS = 50;
const POLL_MS = 20;
const FILL_LIMIT_MS = 60_000;

interface ProviderView {
  readonly requests: number;
  readonly queued_ahead: number;
  readonly waiting_in_acquire: number;
  readonly in_flight: number;
}

interface QueueRun {
  readonly rssBeforeKb: number;
  readonly rssFullKb: number;
  readonly rssAfterKb: number;
  readonly peak: ProviderView;
  readonly fillMs: number;
  readonly statsMs: number[];
  readonly healthMs: number[];
  readonly drainMs: number;
  readonly burst: BurstResult;
  readonly upstreamOrder: number[];
}

async function providerStats(server: string): Promise<ProviderView> {
  const s = (await (await fetch(`${server}/admin/stats`)).json()) as { providers: ProviderView[] };
  const p = s.providers[0];
  if (!p) throw new Error("stats list no provider");
  return p;
}

/** Latencies (ms) of `count` sequential GETs; each must answer 200. */
async function timeGets(url: string, count: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    const res = await fetch(url);
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
    out.push(performance.now() - t);
  }
  return out;
}

/** Mean of a few RSS reads a little apart (RSS moves with the allocator). */
async function steadyRssKb(pid: number): Promise<number> {
  let sum = 0;
  for (let i = 0; i < 5; i++) {
    sum += rssKb(pid);
    await Bun.sleep(100);
  }
  return sum / 5;
}

/** How far an order is from FIFO, given that only batch order was enforced. */
function fifoCheck(order: readonly number[], n: number, batch: number) {
  let batchViolations = 0;
  let inversions = 0; // adjacent pairs out of seq order
  let maxBatch = -1;
  for (let i = 0; i < order.length; i++) {
    const b = Math.floor(order[i]! / batch);
    if (b < maxBatch) batchViolations++;
    maxBatch = Math.max(maxBatch, b);
    if (i > 0 && order[i]! < order[i - 1]!) inversions++;
  }
  const distinct = new Set(order).size;
  return { count: order.length, distinct, fifo: order.length === n && distinct === n && batchViolations === 0, batchViolations, inversions };
}

/** One fill → probe → drain cycle against a fresh server and upstream. */
async function runOnce(o: QueueOptions, serverScript: string, serverArgs: string[], openFiles: number): Promise<QueueRun> {
  const servers: ServerProc[] = [];
  try {
    const recorder = await startServer("serve-recorder.ts", []);
    servers.push(recorder);
    const server = await startServer(serverScript, ["--upstream", recorder.url, "--interval", String(o.intervalS), ...serverArgs], {
      env: fetchCapEnv(1024),
      openFiles,
    });
    servers.push(server);
    const post = (path: string) => fetch(recorder.url + path, { method: "POST" }).then((r) => r.arrayBuffer());

    // Warm-up: the request path and the admin routes run (and JIT) before the "before" reading.
    await runScript("load.ts", ["--url", server.url + CHAT_PATH, "--body", CHAT_BODY, "--concurrency", "8", "--count", "300"], 60_000, {
      env: fetchCapEnv(1024),
    }).output;
    await timeGets(`${server.url}/admin/stats`, 20);
    await timeGets(`${server.url}/admin/health`, 20);
    await post("/bench/reset");
    await post("/bench/hold");
    const rssBeforeKb = await steadyRssKb(server.pid);

    const client = runScript("burst-client.ts", ["--gateway", server.url, "--n", String(o.n), "--batch", String(o.batch)],
      FILL_LIMIT_MS + o.n * o.intervalS * 3000 + 60_000, { env: fetchCapEnv(o.n + 1000), openFiles });

    // Fill: poll until every request is either in flight (the held one) or waiting.
    const t0 = performance.now();
    let peak: ProviderView = { requests: 0, queued_ahead: 0, waiting_in_acquire: 0, in_flight: 0 };
    for (;;) {
      const p = await providerStats(server.url);
      if (p.waiting_in_acquire >= peak.waiting_in_acquire) peak = p;
      if (p.waiting_in_acquire + p.in_flight >= o.n) break;
      if (performance.now() - t0 > FILL_LIMIT_MS) throw new Error(`line did not fill within ${FILL_LIMIT_MS} ms (waiting ${p.waiting_in_acquire})`);
      await Bun.sleep(POLL_MS);
    }
    const fillMs = performance.now() - t0;
    const rssFullKb = await steadyRssKb(server.pid);
    const statsMs = await timeGets(`${server.url}/admin/stats`, o.adminSamples);
    const healthMs = await timeGets(`${server.url}/admin/health`, o.adminSamples);

    // Drain: release the held answer; the line empties at the spaced cadence.
    const tRelease = performance.now();
    await post("/bench/release");
    const burst = JSON.parse(await client.output) as BurstResult;
    const drainMs = performance.now() - tRelease;
    const rssAfterKb = await steadyRssKb(server.pid);
    const upstreamOrder = ((await (await fetch(`${recorder.url}/bench/order`)).json()) as { order: number[] }).order;
    return { rssBeforeKb, rssFullKb, rssAfterKb, peak, fillMs, statsMs, healthMs, drainMs, burst, upstreamOrder };
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

export async function runQueueMemory(o: QueueOptions): Promise<Headline[]> {
  const out = o.n > 0 ? await runOverHttp(o) : [];
  if (o.inProcess.length) out.push(...(await runInProcess(o)));
  return out;
}

async function runOverHttp(o: QueueOptions): Promise<Headline[]> {
  console.log(`\n## 4a. queue memory over HTTP — ${o.n} requests waiting in one spaced line (interval ${o.intervalS} s, max_concurrent 1, upstream held), ${o.rounds} round(s)`);
  // Each side holds N sockets (the server also its upstream and admin ones).
  const openFiles = o.n * 2 + 1024;
  const limit = await openFileLimit();
  if (limit < openFiles) console.log(`note: ulimit -n is ${limit}; children raise it to ${openFiles} (or their hard limit)`);

  const variants = [
    { id: "limitrate", script: "serve-gateway.ts", args: ["--limit", "queue"] },
    { id: "minimal queue", script: "serve-minimal-queue.ts", args: [] },
  ];
  const runs = new Map<string, QueueRun[]>(variants.map((v) => [v.id, []]));
  for (let r = 0; r < o.rounds; r++) {
    for (const v of r % 2 === 0 ? variants : [...variants].reverse()) {
      const run = await runOnce(o, v.script, v.args, openFiles);
      runs.get(v.id)!.push(run);
      console.error(`  round ${r + 1} ${v.id}: RSS +${fmt((run.rssFullKb - run.rssBeforeKb) / 1024, 1)} MB, drained in ${fmt(run.drainMs / 1000, 2)} s`);
    }
  }
  return report(o, variants.map((v) => v.id), runs);
}

function report(o: QueueOptions, ids: readonly string[], runs: ReadonlyMap<string, readonly QueueRun[]>): Headline[] {
  const of = (id: string) => runs.get(id) ?? [];
  const mb = (kb: number) => fmt(kb / 1024, 1);
  const med = (id: string, f: (r: QueueRun) => number) => median(of(id).map(f));
  const growth = (id: string) => med(id, (r) => r.rssFullKb - r.rssBeforeKb);
  const row = (name: string, f: (id: string) => string) => [name, ...ids.map(f)];
  console.log(table([
    ["", ...ids],
    row("RSS before, MB (warm, line empty)", (id) => mb(med(id, (r) => r.rssBeforeKb))),
    row("RSS with the line full, MB", (id) => mb(med(id, (r) => r.rssFullKb))),
    row("RSS after drain, MB", (id) => mb(med(id, (r) => r.rssAfterKb))),
    row("growth, MB", (id) => mb(growth(id))),
    row("growth per waiting request, KB", (id) => fmt(growth(id) / o.n, 2)),
    row("peak waiting_in_acquire", (id) => String(Math.min(...of(id).map((r) => r.peak.waiting_in_acquire)))),
    row("fill time, ms (client open all)", (id) => `${fmt(med(id, (r) => r.fillMs), 0)} (${fmt(med(id, (r) => r.burst.fillMs), 0)})`),
    row("drain after release, s", (id) => fmt(med(id, (r) => r.drainMs) / 1000, 2)),
  ]));
  const targetMb = (TARGET_MB_PER_5000 * o.n) / 5000;
  const gwGrowth = growth("limitrate");
  const out: Headline[] = [
    headline(SECTION, `HTTP, ${o.n} waiting: limitrate RSS per waiting request`, `${fmt(gwGrowth / o.n, 2)} KB (${mb(gwGrowth)} MB)`, `≤ ${fmt(TARGET_KB_PER_REQUEST, 2)} KB`, gwGrowth / 1024 < targetMb),
    headline(SECTION, `HTTP, ${o.n} waiting: limitrate / minimal queue RSS growth`, `${fmt(gwGrowth / growth("minimal queue"), 2)}×`),
  ];
  console.log(`limitrate RSS growth ${mb(gwGrowth)} MB for ${o.n} waiting (${gwGrowth / 1024 < targetMb ? "ok" : "OVER"} target ${fmt(targetMb, 1)} MB); ` +
    `${fmt((gwGrowth - growth("minimal queue")) / o.n, 2)} KB per request above the minimal queue`);

  const gw = of("limitrate");
  const all = (f: (r: QueueRun) => number[]) => gw.flatMap(f).sort((a, b) => a - b);
  const stats = all((r) => r.statsMs);
  const health = all((r) => r.healthMs);
  const adminRow = (name: string, s: number[]) => [name, fmt(percentile(s, 50), 2), fmt(percentile(s, 99), 2), fmt(s[s.length - 1] ?? Number.NaN, 2)];
  console.log(table([[`limitrate, ${o.n - 1} waiting`, "p50 ms", "p99 ms", "max ms"], adminRow("/admin/stats", stats), adminRow("/admin/health", health)]));
  const worst = Math.max(percentile(stats, 50), percentile(health, 50));
  console.log(`admin answers while the line is full: ${worst < TARGET_ADMIN_MS ? "ok" : "SLOW"} (target p50 < ${TARGET_ADMIN_MS} ms)`);
  out.push(headline(SECTION, `HTTP, ${o.n} waiting: /admin/stats p50`, `${fmt(percentile(stats, 50), 2)} ms`, `< ${TARGET_ADMIN_MS} ms`, percentile(stats, 50) < TARGET_ADMIN_MS));
  let allOk = true;

  for (const id of ids) {
    of(id).forEach((r, i) => {
      const ok = r.burst.statuses["200"] ?? 0;
      const up = fifoCheck(r.upstreamOrder, o.n, o.batch);
      const done = fifoCheck(r.burst.completionOrder, o.n, o.batch);
      if (id === "limitrate") allOk &&= ok === o.n && up.fifo;
      console.log(`${id} run ${i + 1}: ${ok}/${o.n} answered 200 ${ok === o.n ? "ok" : `FAILED ${JSON.stringify(r.burst.statuses)}`}; ` +
        `upstream order ${up.fifo ? "FIFO ok" : "NOT FIFO"} (${up.distinct} distinct, ${up.batchViolations} batch-order violations, ${up.inversions} adjacent inversions); ` +
        `client completion order: ${done.batchViolations} batch-order violations, ${done.inversions} inversions`);
    });
  }
  out.push(headline(SECTION, `HTTP, ${o.n} waiting: all answered 200, upstream order FIFO`, allOk ? "yes" : "NO", "yes", allOk));
  return out;
}

/** N waiting without sockets, limitrate and the minimal queue each in a fresh process of its own. */
async function runInProcess(o: QueueOptions): Promise<Headline[]> {
  console.log(`\n## 4b. queue memory in-process (handler called directly, no sockets) — ${o.inProcess.join(", ")} waiting; ` +
    `memory after a full GC; ${o.inProcessDrain ? "then released and drained (all must answer 200)" : "then the line is stopped (503s)"}`);
  const recorder = await startServer("serve-recorder.ts", []);
  const results = new Map<string, InProcessResult>();
  try {
    for (const n of o.inProcess) {
      for (const impl of ["limitrate", "minimal"]) {
        const args = ["--impl", impl, "--n", String(n), "--upstream", recorder.url, "--interval", String(Math.min(o.intervalS, 0.0001))];
        if (o.inProcessDrain) args.push("--drain");
        const r = JSON.parse(await runScript("queue-inprocess.ts", args, 900_000).output) as InProcessResult;
        results.set(`${impl}:${n}`, r);
        console.error(`  in-process ${impl} ${n}: heap +${fmt((r.heapFullKb - r.heapBeforeKb) / 1024, 1)} MB, RSS +${fmt((r.rssFullKb - r.rssBeforeKb) / 1024, 1)} MB`);
      }
    }
  } finally {
    await recorder.stop();
  }
  const kbPer = (r: InProcessResult, f: "heap" | "rss") => (f === "heap" ? r.heapFullKb - r.heapBeforeKb : r.rssFullKb - r.rssBeforeKb) / r.n;
  const rows = [["impl, waiting", "heap before MB", "heap full MB", "heap KB/req", "RSS before MB", "RSS full MB", "RSS KB/req", "RSS × minimal", "fill ms", o.inProcessDrain ? "200s / drain s" : "answered"]];
  const out: Headline[] = [];
  for (const n of o.inProcess) {
    const min = results.get(`minimal:${n}`)!;
    for (const impl of ["limitrate", "minimal"]) {
      const r = results.get(`${impl}:${n}`)!;
      rows.push([`${impl}, ${r.waiting} waiting`, fmt(r.heapBeforeKb / 1024, 1), fmt(r.heapFullKb / 1024, 1), fmt(kbPer(r, "heap"), 2),
        fmt(r.rssBeforeKb / 1024, 1), fmt(r.rssFullKb / 1024, 1), fmt(kbPer(r, "rss"), 2), `${fmt(kbPer(r, "rss") / kbPer(min, "rss"), 2)}×`,
        fmt(r.fillMs, 0), o.inProcessDrain ? `${r.answered200} / ${fmt((r.drainMs ?? Number.NaN) / 1000, 1)}` : `${r.answered200} (line stopped)`]);
    }
    const lr = results.get(`limitrate:${n}`)!;
    out.push(headline(SECTION, `in-process, ${n} waiting: limitrate RSS per waiting request`, `${fmt(kbPer(lr, "rss"), 2)} KB (heap ${fmt(kbPer(lr, "heap"), 2)} KB)`,
      `≤ ${fmt(TARGET_KB_PER_REQUEST, 2)} KB`, kbPer(lr, "rss") <= TARGET_KB_PER_REQUEST));
    out.push(headline(SECTION, `in-process, ${n} waiting: limitrate / minimal queue (RSS; heap)`, `${fmt(kbPer(lr, "rss") / kbPer(min, "rss"), 2)}×; ${fmt(kbPer(lr, "heap") / kbPer(min, "heap"), 2)}×`));
    if (o.inProcessDrain) out.push(headline(SECTION, `in-process, ${n} waiting: all answered 200 after release`, `${lr.answered200}/${n}`, `${n}/${n}`, lr.answered200 === n));
  }
  console.log(table(rows));
  return out;
}

if (import.meta.main) {
  const { options, flags } = presetArgs(FULL, SHORT, { n: "n", interval: "intervalS", rounds: "rounds", batch: "batch" }, [], ["in-process"]);
  const inProcess = flags["in-process"];
  printSummary(await runQueueMemory(typeof inProcess === "string" ? { ...options, inProcess: inProcess.split(",").filter(Boolean).map(Number) } : options));
}
