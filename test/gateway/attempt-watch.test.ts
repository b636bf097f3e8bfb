// One ticking timer per provider times out its upstream attempts and passes a client's leaving on.
// Timers on a busy machine fire late: the tests wait for what must happen (bounded), and bound
// "how late" loosely; only "not before" is tight.
import { expect, test } from "bun:test";
import { AttemptWatch } from "../../src/gateway/attempt-watch.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { until } from "../helpers/wait.ts";

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
  // Deadlines on a fake clock (the ticks are real): the order follows from state, not from timers.
  const clock = new FakeClock();
  const watch = new AttemptWatch(60, clock);
  const client = new AbortController();
  const first = watch.start(client);
  clock.advance(20);
  const middle = watch.start(client);
  clock.advance(20);
  const last = watch.start(client);
  watch.end(middle);
  expect(watch.size).toBe(2);
  clock.advance(21); // past the first's deadline only
  expect(await until(() => first.signal.aborted)).toBe(true);
  expect(first.timedOut).toBe(true);
  expect(last.signal.aborted).toBe(false);
  expect(watch.size).toBe(1);
  clock.advance(40); // past the last's too
  expect(await until(() => last.signal.aborted)).toBe(true);
  expect(last.timedOut).toBe(true);
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
  const clock = new FakeClock();
  const watch = new AttemptWatch(50, clock);
  const client = new AbortController();
  const a = watch.start(client);
  expect(watch.ticking).toBe(true);
  watch.end(a);
  watch.end(a); // twice is harmless
  expect(watch.size).toBe(0);
  // Another attempt keeps the timer ticking past a's deadline: b times out, a (ended) does not.
  const b = watch.start(client);
  clock.advance(60);
  expect(await until(() => b.signal.aborted)).toBe(true);
  expect(a.signal.aborted).toBe(false);
  expect(await until(() => !watch.ticking)).toBe(true);
  // And it starts again with the next attempt.
  const c = watch.start(client);
  expect(watch.ticking).toBe(true);
  watch.end(c);
});
