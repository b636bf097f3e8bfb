/** Waits until `ok()` holds (polling every 2 ms), at most `ms`; returns whether it did. */
export async function until(ok: () => boolean, ms = 3000): Promise<boolean> {
  const end = performance.now() + ms;
  while (!ok() && performance.now() < end) await Bun.sleep(2);
  return ok();
}

/** As until(), for a condition that must be asked for (a Redis key, an HTTP answer), every 20 ms. */
export async function untilAsync(ok: () => Promise<boolean>, ms = 3000): Promise<boolean> {
  const end = performance.now() + ms;
  while (!(await ok()) && performance.now() < end) await Bun.sleep(20);
  return ok();
}
