/**
 * The mock OpenAI upstream in its own process (answers at once, no limits).
 *   bun bench/lib/serve-mock.ts   → prints "LISTENING http://127.0.0.1:PORT"
 */
import { startMockUpstream } from "../../src/mock/mock-upstream.ts";
import { announce, stopOnExitSignals } from "./lifecycle.ts";

const mock = startMockUpstream({ port: 0 });
// Every server announces its origin; clients append /v1/...
announce(`http://127.0.0.1:${mock.port}`);
stopOnExitSignals(() => mock.stop());
