/**
 * A recording upstream for the queue bench: answers chat completions like
 * the mock, but notes the `seq` field of each body in arrival order, and can
 * hold answers back so a gateway's line fills up behind the held request.
 *   POST /bench/hold     answers wait from now on
 *   POST /bench/release  answer everything held, and stop holding
 *   POST /bench/reset    forget the recorded order
 *   GET  /bench/order    {"order": [seq, ...]}
 *   bun bench/lib/serve-recorder.ts   → prints "LISTENING http://127.0.0.1:PORT"
 */
import { announce, stopOnExitSignals } from "./lifecycle.ts";

/** Bounds memory whatever a client sends. */
const MAX_RECORDED = 1_000_000;

let order: number[] = [];
let held: Promise<void> | null = null;
let release: () => void = () => {};

function answer(): Response {
  return Response.json({
    id: "chatcmpl-bench",
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: "gpt-4o-mini",
    choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }],
    usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
  });
}

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  idleTimeout: 0, // a held answer may wait many seconds
  async fetch(req) {
    const path = new URL(req.url).pathname;
    if (path === "/v1/chat/completions") {
      const body: unknown = await req.json();
      const seq = typeof body === "object" && body !== null && "seq" in body ? body.seq : undefined;
      if (typeof seq === "number" && order.length < MAX_RECORDED) order.push(seq);
      if (held) await held;
      return answer();
    }
    if (path === "/bench/hold") {
      held ??= new Promise<void>((r) => (release = r));
      return Response.json({ holding: true });
    }
    if (path === "/bench/release") {
      held = null;
      release();
      return Response.json({ holding: false });
    }
    if (path === "/bench/reset") {
      order = [];
      return Response.json({ reset: true });
    }
    if (path === "/bench/order") return Response.json({ order });
    return new Response("not found", { status: 404 });
  },
});
announce(`http://127.0.0.1:${server.port}`);
stopOnExitSignals(() => server.stop(true));
