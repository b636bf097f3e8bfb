/** Finds and loads the config the way every command does (DESIGN.md lookup order). */
import { homedir } from "node:os";
import { findConfigFile, loadConfigFile } from "../config/load.ts";
import type { Config } from "../config/schema.ts";

export interface LoadedConfig {
  readonly config: Config;
  readonly path: string;
}

/** The config file's path, or null when none is found (serve then runs its embedded default). */
export function locateConfig(explicit: string | undefined): string | null {
  return findConfigFile({ explicit, env: process.env, cwd: process.cwd(), home: homedir() });
}

export function loadConfig(path: string): Config {
  return loadConfigFile(path, process.env);
}
