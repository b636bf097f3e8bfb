// One ticking timer per provider times out its upstream attempts and passes a client's leaving on.
// Timers on a busy machine fire late: the tests wait for what must happen (bounded), and bound
// "how late" loosely; only "not before" is tight.
import { expect, test } from "bun:test";
import { AttemptWatch } from "../../src/gateway/attempt-watch.ts";

const sleep = (ms: number) => Bun.sleep(ms);

/** Waits until `ok()` holds (polling), at most `ms`; returns whether it did. */
async function until(ok: () => boolean, ms = 3000): Promise<boolean> {
  const end = performance.now() + ms;
  while (!ok() && performance.now() < end) await sleep(2);
  return ok();
}

test("an attempt still waiting at its deadline is aborted and marked timed out, within a tick", async () => {
  const watch = new AttemptWatch(50); // tick 5 ms
  const client = new AbortController();
  const a = watch.start(client);
  const t0 = performance.now();
  expect(await until(() => a.signal.aborted)).toBe(true);
  const took = performance.now() - t0;
  expect(a.timedOut).toBe(true);
  expect(took).toBeGreaterThanOrEqual(45);
  expect(took).toBeLessThan(1000); // a tick late in principle; room for a busy machine
  expect(watch.size).toBe(0);
  expect(client.signal.aborted).toBe(false);
});

test("attempts time out oldest first; one that ended in between is left alone", async () => {
  const watch = new AttemptWatch(60);
  const client = new AbortController();
  const first = watch.start(client);
  await sleep(20);
  const middle = watch.start(client);
  await sleep(20);
  const last = watch.start(client);
  watch.end(middle);
  expect(watch.size).toBe(2);
  const abortedAt = new Map<string, number>();
  for (const [name, a] of [["first", first], ["last", last]] as const) {
    a.signal.addEventListener("abort", () => abortedAt.set(name, performance.now()), { once: true });
  }
  expect(await until(() => abortedAt.size === 2)).toBe(true);
  expect(first.timedOut && last.timedOut).toBe(true);
  expect(abortedAt.get("first")!).toBeLessThanOrEqual(abortedAt.get("last")!);
  expect(middle.timedOut).toBe(false);
  expect(middle.signal.aborted).toBe(false);
});

test("a client that leaves before the first tick is noticed at that tick", async () => {
  const watch = new AttemptWatch(1000); // tick 100 ms
  const client = new AbortController();
  const a = watch.start(client);
  client.abort();
  expect(a.signal.aborted).toBe(false); // no listener yet: that is the point
  expect(await until(() => a.signal.aborted)).toBe(true);
  expect(a.timedOut).toBe(false);
  expect(a.listening).toBe(false); // caught by the tick's look, not by a listener
});

test("a client that leaves after a tick aborts the attempt at once, and still does after its headers came", async () => {
  const watch = new AttemptWatch(1000);
  const waiting = new AbortController();
  const answered = new AbortController();
  const a = watch.start(waiting);
  const b = watch.start(answered);
  expect(await until(() => a.listening && b.listening)).toBe(true); // one tick: both listen to their client now
  waiting.abort();
  expect(a.signal.aborted).toBe(true);
  watch.end(b); // headers in; the body is still being read
  answered.abort();
  expect(b.signal.aborted).toBe(true);
  expect(b.timedOut).toBe(false);
});

test("an attempt that ends in time is never aborted, and the timer stops once idle", async () => {
  const watch = new AttemptWatch(50);
  const client = new AbortController();
  const a = watch.start(client);
  expect(watch.ticking).toBe(true);
  watch.end(a);
  watch.end(a); // twice is harmless
  expect(watch.size).toBe(0);
  expect(await until(() => !watch.ticking)).toBe(true);
  await sleep(60); // past its deadline
  expect(a.signal.aborted).toBe(false);
  // And it starts again with the next attempt.
  const b = watch.start(client);
  expect(watch.ticking).toBe(true);
  watch.end(b);
});
