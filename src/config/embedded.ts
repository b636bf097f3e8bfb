/**
 * The config `serve` uses when no file is found: one built-in mock provider
 * with a spaced limit low enough that a new user sees requests queue.
 */
import { configSchema, type Config } from "./schema.ts";

export const EMBEDDED_RPM = 30;

export function embeddedConfig(mockBaseUrl: string, server: { host?: string; port?: number } = {}): Config {
  return configSchema.parse({
    server,
    providers: [
      {
        name: "mock",
        base_url: mockBaseUrl,
        models: ["gpt-4o-mini", "gpt-4o"],
        rate_limit: { mode: "spaced", rpm: EMBEDDED_RPM, max_wait_seconds: 120 },
      },
    ],
  });
}
