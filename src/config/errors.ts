/**
 * A config that cannot be used. `problems` lists every problem found, each as
 * `path: message` (e.g. `providers[1].rate_limit.rpm: must be > 0`), so one
 * run shows everything to fix. Neither holds a secret.
 */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly problems: string[];
  readonly source: string;

  constructor(source: string, problems: readonly string[]) {
    const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
    super(`invalid config ${source} (${count}):\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.source = source;
    this.problems = [...problems];
  }
}
