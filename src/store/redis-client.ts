/**
 * ioredis clients for the Redis store, configured so an outage never hangs a
 * request: no offline queue on standalone (a command while disconnected fails
 * at once; for Cluster see connectCluster), no retry of a command whose
 * connection dropped (it may have run: a retry could charge twice), and a
 * reconnect loop in the background with capped backoff. Auto-pipelining lets
 * concurrent calls share round trips (on top of the store's own batching of
 * acquires). The per-call time bound is the store's (redis-store.ts `call`).
 *
 * ioredis and not Bun's built-in RedisClient: only ioredis speaks Redis
 * Cluster (slot routing, MOVED/ASK), and one client type serves both modes.
 */
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from "ioredis";

export type RedisClient = Redis | Cluster;

/** Reconnect delays: 100 ms, 200 ms, … capped at 1 s, forever. */
const RECONNECT_CAP_MS = 1000;
const reconnectDelay = (times: number): number => Math.min(times * 100, RECONNECT_CAP_MS);

function common(timeoutMs: number): RedisOptions {
  return {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    enableAutoPipelining: true,
    // A connection attempt counts as failed after a few call timeouts (min 1 s).
    connectTimeout: Math.max(1000, 4 * timeoutMs),
    lazyConnect: false,
  };
}

/** A standalone Redis from a redis:// or rediss:// URL (password, db and TLS from the URL). */
export function connectRedis(url: string, timeoutMs: number): Redis {
  const client = new Redis(url, { ...common(timeoutMs), retryStrategy: reconnectDelay });
  client.on("error", () => {}); // failures surface per call; the failover store logs them once
  return client;
}

/**
 * A Redis Cluster from seed-node URLs. Credentials and TLS come from the first
 * URL that has them and apply to every node (a cluster has one ACL).
 */
export function connectCluster(urls: readonly string[], timeoutMs: number): Cluster {
  const nodes = urls.map((u) => {
    const p = new URL(u);
    return { host: p.hostname.replace(/^\[|\]$/g, ""), port: p.port === "" ? 6379 : Number(p.port) };
  });
  const auth = urls.map((u) => new URL(u)).find((p) => p.username !== "" || p.password !== "");
  const tls = urls.some((u) => u.toLowerCase().startsWith("rediss:"));
  const redisOptions: ClusterOptions["redisOptions"] = {
    ...common(timeoutMs),
    ...(auth ? { username: decodeURIComponent(auth.username) || undefined, password: decodeURIComponent(auth.password) } : {}),
    ...(tls ? { tls: {} } : {}),
  };
  const client = new Cluster(nodes, {
    // Deliberately on for Cluster: with it off, ioredis rejects any command to a
    // node whose connection is still being made ("Connection is closed."),
    // which fails its own ready check and the first concurrent calls after
    // start-up or a reconnect. Nothing waits long regardless: the store sends
    // only once the cluster is ready and bounds each call by timeout_ms, and
    // a node's queue is flushed as soon as a reconnect attempt fails
    // (maxRetriesPerRequest 0).
    enableOfflineQueue: true,
    enableAutoPipelining: true,
    clusterRetryStrategy: reconnectDelay,
    // Reconnect a node that went away (the default leaves it to MOVED replies).
    clusterNodeRetryStrategy: reconnectDelay,
    slotsRefreshTimeout: Math.max(1000, 4 * timeoutMs),
    redisOptions,
  });
  client.on("error", () => {});
  return client;
}
