// One ticking timer per provider times out its upstream attempts and passes a client's leaving on.
import { expect, test } from "bun:test";
import { AttemptWatch } from "../../src/gateway/attempt-watch.ts";

const sleep = (ms: number) => Bun.sleep(ms);

test("an attempt still waiting at its deadline is aborted and marked timed out, within a tick", async () => {
  const watch = new AttemptWatch(50); // tick 5 ms
  const client = new AbortController();
  const a = watch.start(client);
  const t0 = performance.now();
  await new Promise<void>((resolve) => a.signal.addEventListener("abort", () => resolve(), { once: true }));
  const took = performance.now() - t0;
  expect(a.timedOut).toBe(true);
  expect(took).toBeGreaterThanOrEqual(45);
  expect(took).toBeLessThan(50 + 5 + 40); // a tick late at most, with room for a busy machine
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
  await sleep(120);
  expect(first.timedOut && last.timedOut).toBe(true);
  expect(abortedAt.get("first")!).toBeLessThan(abortedAt.get("last")!);
  expect(middle.timedOut).toBe(false);
  expect(middle.signal.aborted).toBe(false);
});

test("a client that leaves before the first tick is noticed at that tick", async () => {
  const watch = new AttemptWatch(1000); // tick 100 ms
  const client = new AbortController();
  const a = watch.start(client);
  client.abort();
  expect(a.signal.aborted).toBe(false); // no listener yet: that is the point
  await sleep(100 + 60);
  expect(a.signal.aborted).toBe(true);
  expect(a.timedOut).toBe(false);
});

test("a client that leaves after a tick aborts the attempt at once, and still does after its headers came", async () => {
  const watch = new AttemptWatch(1000);
  const waiting = new AbortController();
  const answered = new AbortController();
  const a = watch.start(waiting);
  const b = watch.start(answered);
  await sleep(150); // one tick: both listen to their client now
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
  await sleep(100);
  expect(a.signal.aborted).toBe(false);
  expect(watch.ticking).toBe(false);
  // And it starts again with the next attempt.
  const b = watch.start(client);
  expect(watch.ticking).toBe(true);
  watch.end(b);
});
