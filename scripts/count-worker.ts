/**
 * The token-counting worker as an entrypoint of the compiled executable.
 *
 * src/tokens/worker-client.ts starts it as
 * `new Worker(new URL("./count-worker.ts", import.meta.url).href)`. Inside an
 * executable, import.meta.url of the bundled main code is
 * `file:///$bunfs/root/<name>`, and each extra entrypoint is stored under
 * /$bunfs/root/ at its path relative to the entrypoints' common folder
 * (`.ts` asked, `.js` found). With this file and scripts/entry.ts side by
 * side, that common folder is scripts/, so the worker lands at
 * /$bunfs/root/count-worker.js, exactly where the client looks. Listing
 * src/tokens/count-worker.ts itself would put it at
 * /$bunfs/root/src/tokens/count-worker.js, where nothing finds it (measured:
 * the gateway then logs "token counting worker unavailable").
 */
import "../src/tokens/count-worker.ts";

// Counting is this thread's hot loop: the normal JIT policy, not the
// executable's start-up scale (see scripts/entry.ts).
Bun.unsafe.setJITPolicy(1);
