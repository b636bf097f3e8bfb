// Fair queuing between client keys in a provider's line, priorities, and per-key max_concurrent / max_queued.
import { afterEach, expect, test } from "bun:test";
import { chat, gateway, post, provider } from "../helpers/gateway.ts";
import { okJson, scriptedUpstream } from "../helpers/upstream.ts";

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

const A = "fair-key-a-0123456789";
const B = "fair-key-b-0123456789";

function setup(keys: Record<string, unknown>, rate_limit: Record<string, unknown>, delayMs = 0) {
  const up = scriptedUpstream(async () => {
    if (delayMs) await Bun.sleep(delayMs);
    return okJson();
  });
  const gw = gateway({ keys, providers: [provider("up", up.url, { rate_limit })] });
  cleanup.push(() => up.stop(), () => gw.stop());
  const send = (key: string, tag: string, headers: Record<string, string> = {}) =>
    post(`${gw.url}/v1/chat/completions`, chat("gpt-4o-mini", { tag }), { authorization: `Bearer ${key}`, ...headers });
  const order = () => up.requests.map((r) => JSON.parse(r.body).tag as string);
  return { up, gw, send, order };
}

test("a key with a burst does not starve a key with a few requests: they alternate in the line", async () => {
  const { send, order } = setup({ [A]: { name: "bursty" }, [B]: { name: "light" } }, { mode: "spaced", interval_seconds: 0.03 });
  const burst = Array.from({ length: 20 }, (_, i) => send(A, `a${i}`));
  await Bun.sleep(15);
  const light = Array.from({ length: 3 }, (_, i) => send(B, `b${i}`));
  await Promise.all([...burst, ...light]);
  const seq = order();
  const lastB = Math.max(...["b0", "b1", "b2"].map((t) => seq.indexOf(t)));
  expect(lastB).toBeLessThan(9); // FIFO would put them at 20–22
  expect(seq.filter((t) => t.startsWith("a"))).toEqual(Array.from({ length: 20 }, (_, i) => `a${i}`)); // FIFO within a key
});

test("weights share a busy line in proportion", async () => {
  const { send, order } = setup({ [A]: { weight: 2 }, [B]: { weight: 1 } }, { mode: "spaced", interval_seconds: 0.02 });
  const all = [...Array.from({ length: 12 }, (_, i) => send(A, `a${i}`)), ...Array.from({ length: 12 }, (_, i) => send(B, `b${i}`))];
  await Promise.all(all);
  const first12 = order().slice(0, 12);
  const a = first12.filter((t) => t.startsWith("a")).length;
  expect(a).toBeGreaterThanOrEqual(7);
  expect(a).toBeLessThanOrEqual(9);
});

test("higher priority goes first; a key may lower its own priority per request when allowed", async () => {
  const { send, order } = setup(
    { [A]: { priority: 0 }, [B]: { priority: 5, allow_priority_header: true } },
    { mode: "spaced", interval_seconds: 0.15 },
  );
  const first = send(A, "a0"); // takes the first slot
  await Bun.sleep(30);
  const rest = [send(A, "a1"), send(A, "a2"), send(B, "b-low", { "x-limitrate-priority": "-1" })];
  await Bun.sleep(30);
  rest.push(send(B, "b-high"));
  await Promise.all([first, ...rest]);
  const seq = order();
  expect(seq[0]).toBe("a0");
  expect(seq[1]).toBe("b-high");
  expect(seq.at(-1)).toBe("b-low");
});

test("per-key max_concurrent caps that key's requests upstream; max_queued answers 429 at once beyond it", async () => {
  const { up, send } = setup({ [A]: { max_concurrent: 2, max_queued: 3 } }, {}, 80);
  const res = await Promise.all(Array.from({ length: 8 }, (_, i) => send(A, `a${i}`)));
  const codes = res.map((r) => r.status);
  expect(codes.filter((c) => c === 200)).toHaveLength(5);
  expect(codes.filter((c) => c === 429)).toHaveLength(3);
  expect(up.maxInFlight).toBe(2);
  const refused = res.find((r) => r.status === 429)!;
  expect((await refused.json()).error.message).toContain("max_queued");
});
