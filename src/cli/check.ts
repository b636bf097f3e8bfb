/** `limitrate check`: validate a config and print the resolved plan, secrets masked. */
import { ConfigError } from "../config/errors.ts";
import { describePlan } from "../config/plan.ts";
import { loadConfig, locateConfig } from "./config-source.ts";

export function runCheck(opts: { config?: string }): number {
  try {
    const path = locateConfig(opts.config);
    if (path === null) {
      process.stderr.write(
        "limitrate: no config file found (looked for -c, $LIMITRATE_CONFIG, ./limitrate.yaml, ./config.yaml, ~/.config/limitrate/config.yaml).\n" +
          "Copy config.example.yaml to limitrate.yaml to start one.\n",
      );
      return 1;
    }
    const config = loadConfig(path);
    process.stdout.write(`config ${path}: ok\n\n${describePlan(config, { color: process.stdout.isTTY === true })}\n`);
    return 0;
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`limitrate: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
