// Shared helpers for the config tests.
import { expect } from "bun:test";
import { ConfigError, parseConfig, type Env } from "../../src/config/load.ts";

/** A minimal valid providers section, appended to configs under test. */
export const PROVIDER = `
providers:
  - name: p
    base_url: http://upstream.test/v1
    models: [m]
`;

/** Parses `text`, expecting failure; returns the problems. */
export function problemsOf(text: string, env: Env = {}): string[] {
  try {
    parseConfig(text, env, "test.yaml");
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    if (error instanceof ConfigError) return error.problems;
  }
  throw new Error("expected the config to be rejected");
}

/** The error message of a rejected config. */
export function errorMessageOf(text: string, env: Env = {}): string {
  try {
    parseConfig(text, env, "test.yaml");
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error("expected the config to be rejected");
}
