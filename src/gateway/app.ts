/**
 * The gateway as a function: Request → Response, testable without a socket.
 * Routes are listed in one table; every thrown error becomes an OpenAI-shaped
 * answer in one place.
 */
import { errors } from "../errors.ts";
import { health, models, requireAdmin, stats } from "./admin.ts";
import { renderPrometheus } from "../stats/prometheus.ts";
import { collectSnapshot } from "../stats/collect.ts";
import { requireToken } from "./auth.ts";
import { events } from "./events.ts";
import { proxy } from "./proxy.ts";
import { errorResponse } from "./respond.ts";
import type { Runtime } from "./runtime.ts";

type Handler = (rt: Runtime, req: Request, url: URL) => Response | Promise<Response>;

const PROXIED = new Set(["/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/responses"]);

const ROUTES: Record<string, Partial<Record<string, Handler>>> = {
  "/v1/models": {
    GET: (rt, req) => {
      requireToken(req, rt.config.server.auth_token);
      return models(rt);
    },
  },
  "/admin/health": { GET: (rt) => health(rt) },
  "/health": { GET: (rt) => health(rt) },
  "/admin/stats": {
    GET: (rt, req) => {
      requireAdmin(rt, req);
      return stats(rt);
    },
  },
  "/admin/events": {
    GET: (rt, req, url) => {
      requireAdmin(rt, req);
      return events(rt, url, req.signal);
    },
  },
  "/metrics": {
    GET: async (rt, req) => {
      requireAdmin(rt, req);
      const text = renderPrometheus(await collectSnapshot(rt));
      return new Response(text, { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" } });
    },
  },
};

for (const path of PROXIED) ROUTES[path] = { POST: (rt, req, url) => proxy(rt, req, url.pathname, url.search) };

export type FetchHandler = (req: Request) => Promise<Response>;

export function createApp(rt: Runtime): FetchHandler {
  const route = async (req: Request): Promise<Response> => {
    try {
      const url = new URL(req.url);
      const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, "") : url.pathname;
      const methods = ROUTES[path];
      if (!methods) throw errors.notFound(`Unknown path ${path}.`);
      const handler = methods[req.method] ?? (req.method === "HEAD" ? methods.GET : undefined);
      if (!handler) {
        const allow = Object.keys(methods).join(", ");
        return errorResponse(errors.methodNotAllowed(req.method, path), { allow });
      }
      return await handler(rt, req, url);
    } catch (e) {
      return errorResponse(e);
    }
  };
  // The proxied paths, as sent (no dot segments, escapes or trailing slash), go straight to
  // proxy(), which answers every error itself: no URL object, no extra async frame per request.
  return (req) => {
    if (req.method !== "POST") return route(req);
    const u = req.url;
    const start = u.indexOf("/", u.indexOf("//") + 2);
    const q = u.indexOf("?", start);
    const path = start < 0 ? "/" : q < 0 ? u.slice(start) : u.slice(start, q);
    return PROXIED.has(path) ? proxy(rt, req, path, q < 0 ? "" : u.slice(q)) : route(req);
  };
}
