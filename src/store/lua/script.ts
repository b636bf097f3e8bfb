/**
 * A Lua script run as EVALSHA, falling back to EVAL when the server answers
 * NOSCRIPT (after SCRIPT FLUSH, a restart, a failover, or on a Cluster node
 * that has not seen it yet); EVAL also caches it for the next EVALSHA.
 *
 * EVALSHA goes through ioredis's own command, whose key positions ioredis
 * knows (numkeys, then keys): auto-pipelining groups it by the right Cluster
 * slot. (A `defineCommand` script is routed by its first argument instead.)
 */
import { createHash } from "node:crypto";
import type { RedisClient } from "../redis-client.ts";

export class LuaScript {
  readonly sha: string;

  constructor(readonly lua: string) {
    this.sha = createHash("sha1").update(lua).digest("hex");
  }

  async run(client: RedisClient, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    try {
      return await client.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (e) {
      if (!(e instanceof Error) || !e.message.startsWith("NOSCRIPT")) throw e;
      return client.eval(this.lua, keys.length, ...keys, ...args);
    }
  }
}
