/**
 * Runs every benchmark in sequence: throughput, added latency, queue memory.
 *   bun bench/run-all.ts            full runs (a few minutes)
 *   bun bench/run-all.ts --short    CI-sized runs (about a minute)
 */
import { parseArgs } from "node:util";
import * as latency from "./added-latency.ts";
import * as queue from "./queue-memory.ts";
import * as throughput from "./proxy-throughput.ts";

const { values } = parseArgs({ options: { short: { type: "boolean", default: false } } });
const short = values.short === true;
const t0 = performance.now();
console.log(`# limitrate benchmarks (${short ? "short" : "full"}), bun ${Bun.version}, ${navigator.hardwareConcurrency} cores`);
await throughput.runThroughput(short ? throughput.SHORT : throughput.FULL);
await latency.runAddedLatency(short ? latency.SHORT : latency.FULL);
await queue.runQueueMemory(short ? queue.SHORT : queue.FULL);
console.log(`\ndone in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
