#!/usr/bin/env bun
// `limitrate stats` on its own, for tests that must not depend on src/cli/main.ts:
//   bun test/tui/stats-cli.ts stats --url http://127.0.0.1:PORT
import { Command } from "commander";
import { registerStats } from "../../src/cli/stats.ts";

const program = new Command("limitrate");
registerStats(program);
await program.parseAsync(process.argv);
