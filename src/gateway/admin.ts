/** Admin and discovery endpoints: health, stats, model list. */
import { collectSnapshot } from "../stats/collect.ts";
import { bearer, tokenMatches } from "./auth.ts";
import { errors } from "../errors.ts";
import { json } from "./respond.ts";
import type { Runtime } from "./runtime.ts";

export function health(rt: Runtime): Response {
  const store = rt.store.health();
  return json({ status: store.state === "ok" ? "ok" : "degraded", store, pid: process.pid, uptime_seconds: Math.round((rt.clock.now() - rt.startedAt) / 1000) });
}

/** server.admin_token guards /admin/* (but health) and /metrics. */
export function requireAdmin(rt: Runtime, req: Request): void {
  const token = rt.config.server.admin_token;
  if (token !== undefined && token !== "" && !tokenMatches(bearer(req), token)) {
    throw errors.unauthorized("This admin endpoint needs 'Authorization: Bearer <admin_token>'.");
  }
}

export async function stats(rt: Runtime): Promise<Response> {
  return json(await collectSnapshot(rt));
}

export function models(rt: Runtime): Response {
  const created = Math.floor(rt.startedAt / 1000);
  return json({
    object: "list",
    data: rt.router.list().map((m) => ({ id: m.id, object: "model", created, owned_by: m.owned_by })),
  });
}
