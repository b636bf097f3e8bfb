/**
 * A provider whose limit the controller does not know, in fake time: the
 * controller's rate paces the sends, the provider answers 429 once its
 * sliding minute is full, and the answers feed back after a latency. Used by
 * the AIMD tests and bench/fairness.ts; pure and deterministic (no clock,
 * no randomness), so a run replays exactly.
 */
import { AimdController, type AimdOptions } from "./aimd.ts";

export interface AimdSimulation {
  readonly controller: AimdOptions;
  /** The provider's real limit: requests admitted in any 60 s, unknown to the controller. */
  readonly trueRpm: number;
  readonly minutes: number;
  /** Time from a send to its answer reaching the controller, ms (default 500). */
  readonly latencyMs?: number;
  /** Whether 429'd requests count against the provider's minute too (default false: only admitted ones). */
  readonly rejectedCount?: boolean;
  /** Start time, epoch ms (default 1_800_000_000_000). */
  readonly start?: number;
  /** "Settled" means every trailing minute admits at least (1 − tolerance) × trueRpm (default 0.2). */
  readonly tolerance?: number;
}

export interface AimdRun {
  /** One tally per whole minute of the run. */
  readonly minutes: readonly MinuteTally[];
  /**
   * Time from the start (ms) after which every trailing minute admitted at
   * least (1 − tolerance) × trueRpm, up to the end of the run; null if the
   * last minute was still short.
   */
  readonly settledAfterMs: number | null;
}

export interface MinuteTally {
  /** Requests the provider admitted in this minute. */
  readonly accepted: number;
  /** Requests it answered 429. */
  readonly throttled: number;
  /** The controller's rate at the minute's end. */
  readonly rpmAtEnd: number;
}

const MINUTE_MS = 60_000;

/** Runs the controller against the provider for `minutes` whole minutes. */
export function simulateAimd(sim: AimdSimulation): AimdRun {
  const ctrl = new AimdController(sim.controller);
  const latency = sim.latencyMs ?? 500;
  const start = sim.start ?? 1_800_000_000_000;
  const end = start + sim.minutes * MINUTE_MS;
  const window = new SlidingLog(MINUTE_MS);
  const admitted = sim.rejectedCount ? new SlidingLog(MINUTE_MS) : window;
  const floor = (1 - (sim.tolerance ?? 0.2)) * sim.trueRpm;
  let lastShort = start; // the last send after which the trailing minute held less than `floor`
  // Answers in flight, in send order (constant latency keeps them ordered).
  const answers: { at: number; ok: boolean }[] = [];
  let nextAnswer = 0;
  const tallies: { accepted: number; throttled: number; rpmAtEnd: number }[] = [];
  let now = start;
  let lastSend = start - MINUTE_MS / ctrl.rpm(start); // the first send goes at `start`
  for (;;) {
    const sendAt = Math.max(now, lastSend + MINUTE_MS / ctrl.rpm(now));
    const answer = answers[nextAnswer];
    if (answer && answer.at <= sendAt) {
      now = answer.at;
      nextAnswer++;
      if (answer.ok) ctrl.onSuccess(now);
      else ctrl.onThrottle(now);
      continue;
    }
    if (sendAt >= end) break;
    now = lastSend = sendAt;
    const minute = Math.floor((now - start) / MINUTE_MS);
    while (tallies.length <= minute) {
      if (tallies.length > 0) tallies[tallies.length - 1]!.rpmAtEnd = ctrl.rpm(now);
      tallies.push({ accepted: 0, throttled: 0, rpmAtEnd: 0 });
    }
    const ok = window.count(now) < sim.trueRpm;
    if (ok || sim.rejectedCount) window.add(now);
    if (ok && admitted !== window) admitted.add(now);
    if (admitted.count(now) < floor) lastShort = now;
    if (ok) tallies[minute]!.accepted++;
    else tallies[minute]!.throttled++;
    answers.push({ at: now + latency, ok });
    if (nextAnswer > 4096) {
      answers.splice(0, nextAnswer);
      nextAnswer = 0;
    }
  }
  if (tallies.length > 0) tallies[tallies.length - 1]!.rpmAtEnd = ctrl.rpm(end);
  // Short within the last minute: not settled (the run ended too soon to tell).
  return { minutes: tallies, settledAfterMs: lastShort > end - MINUTE_MS ? null : lastShort - start };
}

/** Totals over minutes [from, to). */
export function totals(tallies: readonly MinuteTally[], from = 0, to = tallies.length): { accepted: number; throttled: number; throttledShare: number } {
  let accepted = 0;
  let throttled = 0;
  for (const t of tallies.slice(from, to)) {
    accepted += t.accepted;
    throttled += t.throttled;
  }
  return { accepted, throttled, throttledShare: accepted + throttled === 0 ? 0 : throttled / (accepted + throttled) };
}

/** Exact count of events in the trailing window: a log of times, dropped from the front as they age out. */
class SlidingLog {
  private times: number[] = [];
  private head = 0;

  constructor(private readonly windowMs: number) {}

  count(now: number): number {
    while (this.head < this.times.length && this.times[this.head]! <= now - this.windowMs) this.head++;
    if (this.head > 4096 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
    return this.times.length - this.head;
  }

  add(now: number): void {
    this.times.push(now);
  }
}
