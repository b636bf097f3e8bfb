/** Starts a real gateway on 127.0.0.1:0 from a plain config object. */
import { configSchema, type Config } from "../../src/config/schema.ts";
import { startGateway, type RunningGateway, type ServeOptions } from "../../src/gateway/server.ts";

export function makeConfig(raw: Record<string, unknown>): Config {
  return configSchema.parse(raw);
}

export function gateway(raw: Record<string, unknown>, opts: ServeOptions = {}): RunningGateway {
  const server = { host: "127.0.0.1", port: 0, ...(raw.server as Record<string, unknown> | undefined) };
  return startGateway(makeConfig({ ...raw, server }), { drainMs: 2000, ...opts });
}

export function provider(name: string, baseUrl: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name, base_url: baseUrl, api_key: `sk-test-${name}-secret`, models: ["gpt-4o-mini", "gpt-4o"], ...extra };
}

export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

export const chat = (model = "gpt-4o-mini", extra: Record<string, unknown> = {}) => ({
  model,
  messages: [{ role: "user", content: "hello there" }],
  ...extra,
});
