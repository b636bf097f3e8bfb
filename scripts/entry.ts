/**
 * Entry of the compiled executable (scripts/build.ts). `bin/limitrate` has no
 * .ts extension, and `bun build --compile` would take it for a plain file
 * (see shared BUN-NOTES), so the build starts here instead.
 *
 * The executable starts with JavaScriptCore's tier-up thresholds scaled up
 * (compile.jitPolicy in scripts/build.ts), so run-once start-up code (module
 * bodies, config parsing) stays in the interpreter instead of being compiled
 * for nothing. The first timer turn comes after the command's synchronous
 * start (for `serve`: config parsed, server listening): from there on, the
 * normal policy, so request paths and bench loops tier up as usual.
 */
import { main } from "../src/cli/main.ts";

setTimeout(() => Bun.unsafe.setJITPolicy(1), 0);
await main(process.argv);
