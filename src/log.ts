/**
 * Minimal leveled logger to stderr. Callers pass values that are already
 * safe: provider keys and client keys are never handed to it (keys appear
 * only as names or short hashes).
 */
type Level = "debug" | "info" | "warn" | "error";
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

let threshold: number = ORDER[(process.env.LIMITRATE_LOG_LEVEL as Level | undefined) ?? "info"] ?? ORDER.info;

export function setLogLevel(level: Level | "silent"): void {
  threshold = level === "silent" ? Infinity : ORDER[level];
}

function write(level: Level, msg: string): void {
  if (ORDER[level] < threshold) return;
  process.stderr.write(`${new Date().toISOString()} ${level.padEnd(5)} ${msg}\n`);
}

export const log = {
  debug: (msg: string) => write("debug", msg),
  info: (msg: string) => write("info", msg),
  warn: (msg: string) => write("warn", msg),
  error: (msg: string) => write("error", msg),
};
