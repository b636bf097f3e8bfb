/**
 * Bun's fetch keeps at most 256 requests in flight per process (more wait
 * inside fetch, which would quietly cap a bench's concurrency). The cap is
 * read from BUN_CONFIG_MAX_HTTP_REQUESTS at start-up only, so a bench that
 * needs more re-runs itself with the variable set.
 */

export const ENV_VAR = "BUN_CONFIG_MAX_HTTP_REQUESTS";
export const BUN_DEFAULT_CAP = 256;
/** Bun's upper bound for the setting. */
const MAX_CAP = 65_535;

export type CapPlan =
  | { readonly kind: "ok" }
  /** Run `argv` with `env` instead of going on. */
  | { readonly kind: "reexec"; readonly argv: string[]; readonly env: Record<string, string>; readonly cap: number }
  /** The user set the variable too low: go on, but say so. */
  | { readonly kind: "hint"; readonly message: string };

export interface ProcessView {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly execPath: string;
  /** Bun.main: the entry script, or a /$bunfs/ path inside a compiled executable. */
  readonly main: string;
  /** process.argv */
  readonly argv: readonly string[];
}

/** Decides, without side effects, whether `needed` concurrent fetches need a re-run. */
export function planFetchCap(needed: number, p: ProcessView): CapPlan {
  if (needed <= BUN_DEFAULT_CAP) return { kind: "ok" };
  const cap = Math.min(MAX_CAP, Math.ceil(needed));
  const set = p.env[ENV_VAR];
  if (set !== undefined && set !== "") {
    const n = Number(set);
    if (Number.isFinite(n) && n >= cap) return { kind: "ok" };
    return {
      kind: "hint",
      message: `${ENV_VAR}=${set} limits this process to ${Number.isFinite(n) ? n : BUN_DEFAULT_CAP} requests in flight, fewer than the ${cap} asked for; set ${ENV_VAR}=${cap} to lift it.`,
    };
  }
  // A compiled executable is its own entry: its argv[1] is the /$bunfs/ path, not a file to pass again.
  const compiled = p.main.startsWith("/$bunfs/") || p.main.startsWith("B:/~BUN/");
  const argv = compiled ? [p.execPath, ...p.argv.slice(2)] : [p.execPath, p.main, ...p.argv.slice(2)];
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(p.env)) if (v !== undefined) env[k] = v;
  env[ENV_VAR] = String(cap);
  return { kind: "reexec", argv, env, cap };
}

/**
 * Re-runs this process with the cap raised, forwarding its stdio, signals and
 * exit code; resolves with the child's exit code. Returns null when it could
 * not start the child (then go on with the hint).
 */
export async function reexec(plan: Extract<CapPlan, { kind: "reexec" }>): Promise<number | null> {
  let child: Bun.Subprocess;
  try {
    child = Bun.spawn(plan.argv, { env: plan.env, stdio: ["inherit", "inherit", "inherit"] });
  } catch {
    return null;
  }
  const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
  const onInt = forward("SIGINT");
  const onTerm = forward("SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  try {
    return await child.exited;
  } finally {
    process.off("SIGINT", onInt);
    process.off("SIGTERM", onTerm);
  }
}
