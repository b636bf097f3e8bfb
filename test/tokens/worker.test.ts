// Large inputs are counted in the worker: the main thread stays responsive, and the worker never holds the process open.
import { afterAll, expect, test } from "bun:test";
import { setLogLevel } from "../../src/log.ts";
import { countRequestInput, countText, INLINE_COST_LIMIT, stopCountWorker } from "../../src/tokens/index.ts";
import { english, random } from "./corpus.ts";

afterAll(() => stopCountWorker());

/** Runs `work` while a 5 ms interval measures how late the event loop lets it fire; returns the worst lateness. */
async function maxLagDuring(work: () => Promise<unknown>): Promise<number> {
  let last = performance.now();
  let worst = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last - 5);
    last = now;
  }, 5);
  try {
    await work();
    return worst;
  } finally {
    clearInterval(timer);
  }
}

test("counting a 2 MB prompt does not block a concurrent timer", async () => {
  const prompt = english(2_000_000, 21);
  const body = { model: "gpt-4o", messages: [{ role: "user", content: prompt }] };
  let tokens = 0;
  stopCountWorker();
  // cold: starts the worker and loads the encoding there
  const cold = await maxLagDuring(async () => (tokens = await countRequestInput("chat", body, "gpt-4o")));
  const warm = await maxLagDuring(() => countRequestInput("chat", body, "gpt-4o"));
  expect(tokens).toBeGreaterThan(400_000);
  expect(tokens).toBe(3 + 1 + (await countText(prompt, "o200k_base")) + 3);
  // Counting 2 MB inline blocks the loop for well over a second; a busy shared machine adds its own lag.
  expect(cold).toBeLessThan(400);
  expect(warm).toBeLessThan(400);
}, 20_000);

test("a small request is not held up behind a huge one in the worker", async () => {
  const rnd = random(41);
  let huge = ""; // ~2 µs a character: about a second of counting
  while (huge.length < 400_000) huge += String.fromCharCode(0x4e00 + Math.floor(rnd() * 20_000));
  const small = english(INLINE_COST_LIMIT + 1_000, 42); // over the inline limit: also counted in the worker
  await countText(small, "o200k_base"); // worker started and loaded
  const started = performance.now();
  let hugeDone = 0;
  const hugeCount = countText(huge, "o200k_base").then(() => (hugeDone = performance.now() - started));
  await Bun.sleep(20);
  const smallStarted = performance.now();
  await countText(small, "o200k_base");
  const smallTook = performance.now() - smallStarted;
  await hugeCount;
  // the small one waits for one part of the huge one per part of its own, not for all of it
  expect(smallTook).toBeLessThan(hugeDone / 3);
  expect(smallTook).toBeLessThan(1000);
}, 20_000);

test("concurrent large counts are multiplexed and each gets its own answer", async () => {
  const texts = [1, 2, 3, 4].map((seed) => english(INLINE_COST_LIMIT + seed * 10_000, seed));
  const together = await Promise.all(texts.map((t, i) => countText(t, i % 2 ? "cl100k_base" : "o200k_base")));
  const oneByOne: number[] = [];
  for (const [i, t] of texts.entries()) oneByOne.push(await countText(t, i % 2 ? "cl100k_base" : "o200k_base"));
  expect(together).toEqual(oneByOne);
  expect(new Set(together).size).toBe(4);
}, 20_000);

test("if the worker goes away mid-count, the count is finished on the main thread", async () => {
  setLogLevel("silent");
  try {
    const text = english(200_000, 43);
    const expected = await countText(text, "cl100k_base");
    const pending = countText(text, "cl100k_base");
    stopCountWorker();
    expect(await pending).toBe(expected);
    expect(await countText(text, "cl100k_base")).toBe(expected); // a new worker
  } finally {
    setLogLevel("info");
  }
});

test("the worker does not keep the process alive, and its answer still arrives", async () => {
  const script = `
    import { countText } from "${new URL("../../src/tokens/index.ts", import.meta.url).pathname}";
    console.log(await countText("hello world ".repeat(20000).trimEnd(), "o200k_base"));
  `;
  const started = performance.now();
  const proc = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "pipe" });
  const code = await proc.exited;
  expect(code).toBe(0);
  expect((await new Response(proc.stdout).text()).trim()).toBe(String(2 * 20000));
  expect(performance.now() - started).toBeLessThan(10_000);
});
