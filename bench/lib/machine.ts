/** What the figures were measured on: printed at the top of every full report. */
import { readFileSync } from "node:fs";
import { cpus, release, totalmem } from "node:os";

export interface Machine {
  readonly cores: number;
  readonly cpuModel: string;
  readonly ramGiB: number;
  readonly kernel: string;
  readonly bun: string;
  readonly node: string | null;
  readonly redis: string | null;
  readonly openFiles: string;
}

function firstMatch(path: string, re: RegExp): string | null {
  try {
    return re.exec(readFileSync(path, "utf8"))?.[1]?.trim() ?? null;
  } catch {
    return null;
  }
}

async function output(cmd: string[]): Promise<string | null> {
  if (!Bun.which(cmd[0]!)) return null;
  const p = Bun.spawn(cmd, { stdin: "ignore", stdout: "pipe", stderr: "ignore" });
  const [text] = await Promise.all([new Response(p.stdout).text(), p.exited]);
  return text.trim() || null;
}

export async function machine(): Promise<Machine> {
  return {
    cores: navigator.hardwareConcurrency,
    cpuModel: firstMatch("/proc/cpuinfo", /^model name\s*:\s*(.+)$/m) ?? cpus()[0]?.model ?? "unknown",
    ramGiB: totalmem() / 2 ** 30,
    kernel: release(),
    bun: Bun.version,
    node: await output(["node", "--version"]),
    redis: (await output(["redis-server", "--version"]))?.replace(/^Redis server /, "").split(" ")[0] ?? null,
    openFiles: (await output(["sh", "-c", "echo $(ulimit -n) soft / $(ulimit -Hn) hard"])) ?? "?",
  };
}

export function describeMachine(m: Machine): string {
  return `machine: ${m.cores} cores (${m.cpuModel}), ${m.ramGiB.toFixed(1)} GiB RAM, Linux ${m.kernel}; ` +
    `bun ${m.bun}, node ${m.node ?? "absent"}, redis-server ${m.redis ?? "absent"}; open files ${m.openFiles}`;
}
