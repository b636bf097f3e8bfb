/**
 * A scriptable upstream for failure cases the mock does not play: the test
 * supplies the handler; every request is recorded (time, headers, body).
 */
export interface Recorded {
  readonly at: number;
  readonly path: string;
  readonly headers: Headers;
  readonly body: string;
}

export interface ScriptedUpstream {
  readonly url: string;
  readonly requests: Recorded[];
  /** Requests whose handler has started but not returned/finished streaming. */
  inFlight: number;
  maxInFlight: number;
  stop(): Promise<void>;
}

export type Handler = (req: Request, body: string, n: number) => Response | Promise<Response>;

export function scriptedUpstream(handler: Handler): ScriptedUpstream {
  const state: ScriptedUpstream = {
    url: "",
    requests: [],
    inFlight: 0,
    maxInFlight: 0,
    stop: async () => {},
  };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    async fetch(req) {
      const body = await req.text();
      const url = new URL(req.url);
      state.requests.push({ at: Date.now(), path: url.pathname + url.search, headers: req.headers, body });
      state.inFlight++;
      state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
      try {
        return await handler(req, body, state.requests.length);
      } finally {
        state.inFlight--;
      }
    },
  });
  return Object.assign(state, {
    url: `http://127.0.0.1:${server.port}/v1`,
    stop: async () => {
      await server.stop(true);
    },
  });
}

export function okJson(model = "gpt-4o-mini"): Response {
  return Response.json({
    id: "chatcmpl-x",
    object: "chat.completion",
    created: 1,
    model,
    choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }],
    usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
  });
}
