/**
 * Starts the ink screen on the terminal (alternate screen, restored on exit)
 * and resolves when the user quits. Loaded lazily by `limitrate stats`, so
 * nothing else ever loads ink or React.
 */
import { render } from "ink";
import { App } from "./App.tsx";
import type { FollowOptions } from "./follow-node.ts";

export interface TuiOptions {
  readonly follow: FollowOptions;
  readonly color: boolean;
}

const ENTER_ALT_SCREEN = "\x1b[?1049h\x1b[H";
const LEAVE_ALT_SCREEN = "\x1b[?1049l";
const CLEAR_SCREEN = "\x1b[2J\x1b[H";

export async function runTui(urls: readonly string[], opts: TuiOptions): Promise<void> {
  process.stdout.write(ENTER_ALT_SCREEN);
  // The terminal reflows old output on resize, which ink cannot erase line by line: wipe the
  // screen first (this listener runs before ink's), then ink and the App redraw at the new size.
  const wipe = () => process.stdout.write(CLEAR_SCREEN);
  process.stdout.on("resize", wipe);
  const app = render(<App urls={urls} options={opts.follow} color={opts.color} />, { exitOnCtrlC: true, maxFps: 15 });
  try {
    await app.waitUntilExit();
  } finally {
    app.cleanup();
    process.stdout.off("resize", wipe);
    process.stdout.write(LEAVE_ALT_SCREEN);
  }
}
