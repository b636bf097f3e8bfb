/**
 * The one place a Store is chosen: in-process without Redis; with Redis (or
 * Redis Cluster) the Redis store wrapped in the failover store, which applies
 * store.on_failure when Redis is unreachable.
 */
import type { Clock } from "../clock.ts";
import type { StoreConfig } from "../config/schema.ts";
import { maskUrl } from "../config/secrets.ts";
import { FailoverStore } from "./failover-store.ts";
import { MemoryStore } from "./memory-store.ts";
import { RedisStore } from "./redis-store.ts";
import type { Store } from "./store.ts";

export interface StoreOverrides {
  /** A standalone Redis URL that replaces store.redis / store.redis_cluster (CLI --redis). */
  readonly redisUrl?: string | undefined;
}

export function createStore(config: StoreConfig, clock: Clock, overrides: StoreOverrides = {}): Store {
  const url = overrides.redisUrl ?? config.redis;
  const cluster = overrides.redisUrl === undefined ? config.redis_cluster : undefined;
  if (url === undefined && cluster === undefined) return new MemoryStore(clock);
  // ioredis costs ~10 ms at start: loaded only when Redis is configured.
  const { connectCluster, connectRedis } = require("./redis-client.ts") as typeof import("./redis-client.ts");
  const timeoutMs = config.timeout_ms;
  const urls = url !== undefined ? [url] : cluster!;
  const client = url !== undefined ? connectRedis(url, timeoutMs) : connectCluster(urls, timeoutMs);
  const redis = new RedisStore(client, { prefix: config.prefix, timeoutMs });
  return new FailoverStore(redis, new MemoryStore(clock), {
    onFailure: config.on_failure,
    where: urls.map(maskUrl).join(", "),
    secrets: urls.map((u) => decodeURIComponent(new URL(u).password)).filter((p) => p !== ""),
    clock,
  });
}
