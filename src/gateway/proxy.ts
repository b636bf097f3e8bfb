/**
 * The path of a routed request, top to bottom:
 * auth → body → route → limits + upstream (with retries) → relay back.
 */
import type { Cost } from "../core/policy.ts";
import { requireToken } from "./auth.ts";
import { clientHeaders, upstreamHeaders } from "./headers.ts";
import { parseBody, readBody } from "./read-body.ts";
import { relayBody } from "./relay.ts";
import type { Runtime } from "./runtime.ts";
import { sendUpstream } from "./upstream.ts";

export async function proxy(rt: Runtime, req: Request, path: string, search: string): Promise<Response> {
  const { server } = rt.config;
  requireToken(req, server.auth_token);

  const body = parseBody(await readBody(req, server.max_body_bytes));
  const route = rt.router.resolve(body.model);
  const provider = route.provider;
  provider.counters.requests++;

  const cost: Cost = { requests: 1, input_tokens: 0, output_tokens: 0 };
  const outgoing = route.rewritten ? JSON.stringify({ ...body.json, model: route.upstreamModel }) : body.raw;

  const sent = await sendUpstream(provider, {
    path: path.slice("/v1".length) + search,
    headers: upstreamHeaders(req.headers, provider.config.api_key, provider.config.headers),
    body: outgoing,
    items: [{ ref: provider.ref, cost }],
    signal: req.signal,
  });

  const status = sent.response.status;
  provider.counters.byStatus[status] = (provider.counters.byStatus[status] ?? 0) + 1;
  const permit = sent.permit;
  const stream = relayBody(sent.response.body, permit ? { onEnd: () => permit.release() } : {});
  return new Response(stream, { status, statusText: sent.response.statusText, headers: clientHeaders(sent.response.headers) });
}
