/**
 * Ports for servers that tests start themselves (Redis, gateway nodes).
 *
 * They are chosen below the kernel's ephemeral range: a port from there can be
 * taken at any moment as the local end of some outgoing connection (a node's
 * Redis client, a test's fetch), so a port that was free when asked, or the one
 * next to it, or one a stopped server comes back on, may not be when used.
 * That made `serve --instances` (node i on base + i) fail now and then in CI.
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:net";

/** The kernel's ephemeral range (Linux default when it cannot be read). */
function ephemeralRange(): [number, number] {
  try {
    const [lo, hi] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
    if (Number.isInteger(lo) && Number.isInteger(hi)) return [lo!, hi!];
  } catch {
    // not Linux: fall through
  }
  return [32768, 60999];
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

/**
 * A base port such that base + each offset is free on 127.0.0.1 (at the time of
 * asking), all of them outside the ephemeral range when the range leaves room.
 */
export async function freePorts(offsets: readonly number[]): Promise<number> {
  const span = Math.max(0, ...offsets);
  const [lo] = ephemeralRange();
  // Below the ephemeral range when there is room for the whole span there, else anywhere valid.
  const [from, to] = lo - 1 - span > 10_000 ? [10_000, lo - 1 - span] : [1024, 65_535 - span];
  for (let tries = 0; tries < 500; tries++) {
    const base = from + Math.floor(Math.random() * (to - from + 1));
    let free = true;
    for (const o of offsets) if (!(free = await canListen(base + o))) break;
    if (free) return base;
  }
  throw new Error(`no free ports for offsets ${offsets.join(",")} in ${from}–${to + span}`);
}

/** A free TCP port on 127.0.0.1 (free at the time of asking), outside the ephemeral range. */
export function freePort(): Promise<number> {
  return freePorts([0]);
}
