/**
 * The load engine. It sends requests and emits what happens; it prints
 * nothing (the progress view and the report only listen and render).
 *
 * Events: `start` (settings), `response` (each finished request), `tick`
 * (progress, every `tickMs`), `done` (the BenchResult).
 *
 * Two loops:
 * - closed: `concurrency` workers, each sends, waits for the whole answer,
 *   and sends again — the server's speed sets the pace;
 * - open (`rate`): request i is due at start + i/rate whatever the server
 *   does; latency runs from that intended time, so a server that stalls is
 *   charged for every request it delayed (no coordinated omission). Requests
 *   go out as soon as they are due, up to `concurrency` in flight; beyond
 *   that they wait in line, and that wait counts too.
 *
 * A run ends after `requests` requests or `durationMs` (then answers still
 * pending get `graceMs` more before they are cut off), or on stop().
 */
import { EventEmitter } from "node:events";
import { systemClock, type Clock } from "../clock.ts";
import { sendOne } from "./request.ts";
import type { BenchResult, BenchSettings, RequestResult } from "./result.ts";
import { Tally, TallyMap } from "./tally.ts";
import { type BenchKey, chatBody, chatUrl, NO_KEY_LABEL, pick } from "./workload.ts";

export interface EngineOptions {
  /** Gateway base URLs (normalized, see normalizeBase). */
  readonly urls: readonly string[];
  /** Client keys; empty = send no Authorization header. */
  readonly keys: readonly BenchKey[];
  /** Stop after this many requests (-n). */
  readonly requests?: number | null;
  /** Stop sending after this long, ms (-d). */
  readonly durationMs?: number | null;
  /** Closed loop: workers; open loop: most requests in flight. */
  readonly concurrency: number;
  /** Open loop: requests per second. Absent/null = closed loop. */
  readonly rate?: number | null;
  readonly model: string;
  readonly stream: boolean;
  readonly maxTokens?: number | null;
  /** Per request, ms (default 30 000). */
  readonly timeoutMs?: number;
  /** After the -d deadline, how long pending answers may still take, ms (default 5 000). */
  readonly graceMs?: number;
  /** Progress event period, ms (default 250: 4 per second). */
  readonly tickMs?: number;
  readonly clock?: Clock;
  readonly random?: () => number;
  readonly fetch?: typeof fetch;
}

export interface Progress {
  readonly elapsedMs: number;
  /** Requests finished (answered or failed). */
  readonly done: number;
  readonly inFlight: number;
  /** Open loop: due but waiting for a free slot. */
  readonly waiting: number;
  /** Finished requests per second over about the last second. */
  readonly rps: number;
  readonly status: Readonly<Record<string, number>>;
  readonly errors: number;
  /** 0..1 of the run's target (requests or duration). */
  readonly fraction: number;
  readonly settings: BenchSettings;
}

export interface BenchEvents {
  start: [BenchSettings];
  response: [RequestResult];
  tick: [Progress];
  done: [BenchResult];
}

const RPS_SPAN_MS = 1000;

export class BenchEngine extends EventEmitter<BenchEvents> {
  readonly settings: BenchSettings;
  private readonly o: EngineOptions;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly body: string;
  private readonly abort = new AbortController();
  private readonly total = new Tally();
  private readonly byUrl = new TallyMap();
  private readonly byKey = new TallyMap();
  private started = false;
  private stopping = false;
  private startAt = 0;
  private deadline = Infinity;
  private issued = 0;
  private inFlight = 0;
  private waiting = 0;
  private unfinished = 0;
  private unsent = 0;
  private recent: { t: number; done: number }[] = [];
  /** Wakes the open-loop scheduler when stop() is called. */
  private onStop: (() => void) | null = null;

  constructor(opts: EngineOptions) {
    super();
    if (opts.urls.length === 0) throw new RangeError("bench: at least one URL is needed");
    if (!(opts.concurrency >= 1)) throw new RangeError("bench: concurrency must be ≥ 1");
    if (opts.requests == null && opts.durationMs == null) throw new RangeError("bench: give a request count or a duration");
    if (opts.rate != null && !(opts.rate > 0)) throw new RangeError("bench: rate must be > 0");
    this.o = opts;
    const clock = opts.clock ?? systemClock;
    this.now = () => clock.now();
    this.random = opts.random ?? Math.random;
    this.body = chatBody({ model: opts.model, stream: opts.stream, maxTokens: opts.maxTokens });
    this.settings = {
      mode: opts.rate != null ? "open" : "closed",
      concurrency: opts.concurrency,
      rate: opts.rate ?? null,
      model: opts.model,
      stream: opts.stream,
      max_tokens: opts.maxTokens ?? null,
      target_requests: opts.requests ?? null,
      target_duration_s: opts.durationMs != null ? opts.durationMs / 1000 : null,
    };
    // Every node and key appears in the breakdown, in the order given, even with no traffic.
    for (const u of opts.urls) this.byUrl.get(u);
    for (const k of opts.keys) this.byKey.get(k.label);
  }

  /** Runs the load once and resolves with the result (also emitted as `done`). */
  async run(): Promise<BenchResult> {
    if (this.started) throw new Error("bench: an engine runs once");
    this.started = true;
    this.startAt = this.now();
    if (this.o.durationMs != null) this.deadline = this.startAt + this.o.durationMs;
    this.emit("start", this.settings);
    const tick = setInterval(() => this.emit("tick", this.progress()), this.o.tickMs ?? 250);
    let hardStop: ReturnType<typeof setTimeout> | undefined;
    if (this.deadline !== Infinity) {
      hardStop = setTimeout(() => this.stop(), this.o.durationMs! + (this.o.graceMs ?? 5000));
    }
    try {
      if (this.settings.mode === "open") await this.openLoop(this.o.rate!);
      else await this.closedLoop();
    } finally {
      clearInterval(tick);
      clearTimeout(hardStop);
    }
    const result: BenchResult = {
      settings: this.settings,
      duration_s: (this.now() - this.startAt) / 1000,
      total: this.total.stats(),
      by_url: this.byUrl.stats(),
      by_key: this.o.keys.length > 0 ? this.byKey.stats() : {},
      unsent: this.unsent,
      unfinished: this.unfinished,
      key_limits: [],
    };
    this.emit("tick", this.progress());
    this.emit("done", result);
    return result;
  }

  /** Stops sending and cuts off requests still waiting for an answer (they are counted as unfinished). */
  stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    this.abort.abort();
    this.onStop?.();
  }

  private progress(): Progress {
    const t = this.now();
    const done = this.total.requests;
    this.recent.push({ t, done });
    while (this.recent.length > 2 && t - this.recent[1]!.t >= RPS_SPAN_MS) this.recent.shift();
    const first = this.recent[0]!;
    const span = t - first.t;
    const elapsedMs = t - this.startAt;
    const rps = span > 0 ? ((done - first.done) * 1000) / span : 0;
    const { requests, durationMs } = this.o;
    const fraction =
      requests != null ? done / requests : durationMs != null && durationMs > 0 ? elapsedMs / durationMs : 0;
    return {
      elapsedMs,
      done,
      inFlight: this.inFlight,
      waiting: this.waiting,
      rps,
      status: { ...this.total.status },
      errors: this.total.errors,
      fraction: Math.min(1, Math.max(0, fraction)),
      settings: this.settings,
    };
  }

  /** May one more request start? */
  private mayIssue(): boolean {
    if (this.stopping) return false;
    if (this.o.requests != null && this.issued >= this.o.requests) return false;
    return this.now() < this.deadline;
  }

  private async closedLoop(): Promise<void> {
    const worker = async (): Promise<void> => {
      while (this.mayIssue()) {
        this.issued++;
        await this.fire(this.now());
      }
    };
    await Promise.all(Array.from({ length: this.o.concurrency }, worker));
  }

  private openLoop(rate: number): Promise<void> {
    const intervalMs = 1000 / rate;
    const maxInFlight = this.o.concurrency;
    const line: number[] = []; // intended times of due requests not yet sent
    let head = 0;
    let next = 0; // index of the next request to become due
    let timer: ReturnType<typeof setTimeout> | undefined;
    const dueAt = (i: number) => this.startAt + i * intervalMs;
    const moreToCome = () =>
      !this.stopping && (this.o.requests == null || next < this.o.requests) && dueAt(next) < this.deadline;

    return new Promise<void>((resolve) => {
      const finishIfDone = (): void => {
        const lineEmpty = head >= line.length;
        if (this.inFlight > 0) return;
        if (this.stopping || (!moreToCome() && lineEmpty)) {
          clearTimeout(timer);
          this.unsent = line.length - head;
          this.waiting = 0;
          resolve();
        }
      };
      const send = (): void => {
        while (!this.stopping && head < line.length && this.inFlight < maxInFlight) {
          const intended = line[head++]!;
          this.issued++;
          void this.fire(intended).then(() => {
            send();
            finishIfDone();
          });
        }
        if (head > 4096 && head * 2 > line.length) {
          line.splice(0, head);
          head = 0;
        }
        this.waiting = line.length - head;
      };
      const pump = (): void => {
        const t = this.now();
        while (moreToCome() && dueAt(next) <= t) line.push(dueAt(next++));
        send();
        if (moreToCome()) timer = setTimeout(pump, Math.max(0, dueAt(next) - this.now()));
        finishIfDone();
      };
      this.onStop = () => {
        clearTimeout(timer);
        finishIfDone();
      };
      pump();
    });
  }

  /** Sends one request due at `intendedAt` and records it. */
  private async fire(intendedAt: number): Promise<void> {
    const url = pick(this.o.urls, this.random);
    const key = this.o.keys.length > 0 ? pick(this.o.keys, this.random) : null;
    this.inFlight++;
    const sentAt = this.now();
    const r = await sendOne({
      url: chatUrl(url),
      body: this.body,
      apiKey: key?.key ?? null,
      stream: this.o.stream,
      timeoutMs: this.o.timeoutMs ?? 30_000,
      signal: this.abort.signal,
      now: this.now,
      fetch: this.o.fetch ?? fetch,
    });
    this.inFlight--;
    if (r.error === "cut_off") {
      this.unfinished++;
      return;
    }
    const result: RequestResult = {
      url,
      key: key?.label ?? NO_KEY_LABEL,
      status: r.status,
      ...(r.error !== undefined ? { error: r.error } : {}),
      latencyMs: r.endAt - intendedAt,
      ...(r.firstDataAt !== undefined ? { ttftMs: r.firstDataAt - intendedAt } : {}),
      sendDelayMs: sentAt - intendedAt,
    };
    this.total.add(result);
    this.byUrl.get(url).add(result);
    if (key) this.byKey.get(key.label).add(result);
    this.emit("response", result);
  }
}
