// The fair waiting line: strict priority, then weighted deficit round robin
// between flows, FIFO within a flow — with WaitQueue's API.
import { describe, expect, test } from "bun:test";
import { type FairNode, FairQueue } from "../../src/limiter/fair-queue.ts";
import { prng } from "../core/prng.ts";

interface N extends FairNode {
  readonly id: number;
}

let nextId = 0;
function node(flow: string, opts: { weight?: number; priority?: number; cost?: number; id?: number } = {}): N {
  return { id: opts.id ?? nextId++, flow, weight: opts.weight, priority: opts.priority, cost: opts.cost, prev: null, next: null, queued: false };
}

const ids = (q: Iterable<N>): number[] => [...q].map((n) => n.id);
const flows = (ns: readonly N[]): string => ns.map((n) => n.flow).join("");

function drain(q: FairQueue<N>): N[] {
  const out: N[] = [];
  for (let n = q.shift(); n; n = q.shift()) out.push(n);
  return out;
}

/** Pushes `count` nodes of `flow`, in order. */
function fill(q: FairQueue<N>, flow: string, count: number, opts: { weight?: number; priority?: number; cost?: number } = {}): N[] {
  const ns = Array.from({ length: count }, () => node(flow, opts));
  ns.forEach((n) => q.push(n));
  return ns;
}

describe("FairQueue: the WaitQueue contract", () => {
  test("empty", () => {
    const q = new FairQueue<N>();
    expect(q.size).toBe(0);
    expect(q.peek()).toBeNull();
    expect(q.shift()).toBeNull();
    expect([...q]).toEqual([]);
    expect(q.flowCount).toBe(0);
  });

  test("one flow is plain FIFO", () => {
    const q = new FairQueue<N>();
    const ns = fill(q, "a", 5);
    expect(q.size).toBe(5);
    expect(ids(q)).toEqual(ns.map((n) => n.id));
    expect(drain(q)).toEqual(ns);
    expect(ns.every((n) => !n.queued && n.prev === null && n.next === null)).toBe(true);
  });

  test("peek is stable: twice the same, then shift returns it", () => {
    const q = new FairQueue<N>();
    fill(q, "a", 3);
    fill(q, "b", 3);
    for (let i = 0; i < 6; i++) {
      const p = q.peek();
      expect(q.peek()).toBe(p);
      expect(q.shift()).toBe(p);
    }
    expect(q.peek()).toBeNull();
  });

  test("remove: true once, false when not queued; a node may be queued again", () => {
    const q = new FairQueue<N>();
    const [a1, a2] = fill(q, "a", 2);
    const stranger = node("a");
    expect(q.remove(stranger)).toBe(false);
    expect(q.remove(a1!)).toBe(true);
    expect(q.remove(a1!)).toBe(false);
    expect(q.size).toBe(1);
    q.push(a1!);
    expect(ids(q)).toEqual([a2!.id, a1!.id]);
    expect(q.size).toBe(2);
  });

  test("a shifted node is unlinked and no longer queued", () => {
    const q = new FairQueue<N>();
    fill(q, "a", 3);
    const n = q.shift()!;
    expect([n.prev, n.next, n.queued]).toEqual([null, null, false]);
    expect(q.remove(n)).toBe(false);
    expect(q.size).toBe(2);
  });

  test("options are checked", () => {
    expect(() => new FairQueue({ quantum: 0 })).toThrow(RangeError);
    expect(() => new FairQueue({ quantum: Number.NaN })).toThrow(RangeError);
  });
});

describe("FairQueue: fairness between flows", () => {
  test("a burst of 1,000 does not hold up a flow of 10: all 10 are served within the first 20", () => {
    const q = new FairQueue<N>();
    fill(q, "burst", 1000);
    const small = fill(q, "small", 10);
    const first20 = Array.from({ length: 20 }, () => q.shift()!);
    expect(first20.filter((n) => n.flow === "small")).toEqual(small);
    expect(q.size).toBe(990);
    expect(drain(q).every((n) => n.flow === "burst")).toBe(true);
  });

  test("the small flow arriving mid-burst is also served within 2 turns per request", () => {
    const q = new FairQueue<N>();
    fill(q, "burst", 1000);
    for (let i = 0; i < 100; i++) q.shift();
    fill(q, "small", 10);
    const next20 = Array.from({ length: 20 }, () => q.shift()!);
    expect(next20.filter((n) => n.flow === "small")).toHaveLength(10);
  });

  test("equal weights alternate", () => {
    const q = new FairQueue<N>();
    fill(q, "a", 4);
    fill(q, "b", 4);
    fill(q, "c", 2);
    expect(flows(drain(q))).toBe("abcabcabab");
  });

  test("weights 2:1 give 2:1 service under contention, within one request at every point", () => {
    const q = new FairQueue<N>();
    fill(q, "a", 400, { weight: 2 });
    fill(q, "b", 400, { weight: 1 });
    let a = 0;
    let b = 0;
    for (let i = 0; i < 300; i++) {
      if (q.shift()!.flow === "a") a++;
      else b++;
      expect(Math.abs(a - 2 * b)).toBeLessThanOrEqual(2); // a/2 and b differ by at most one request
    }
    expect([a, b]).toEqual([200, 100]);
  });

  test("weights 3:2:1 across three flows", () => {
    const q = new FairQueue<N>();
    fill(q, "a", 300, { weight: 3 });
    fill(q, "b", 300, { weight: 2 });
    fill(q, "c", 300, { weight: 1 });
    const served = Array.from({ length: 600 }, () => q.shift()!.flow);
    const count = (f: string) => served.filter((x) => x === f).length;
    expect([count("a"), count("b"), count("c")]).toEqual([300, 200, 100]);
  });

  test("fractional weights take turns less often", () => {
    const q = new FairQueue<N>();
    fill(q, "a", 100, { weight: 1 });
    fill(q, "half", 100, { weight: 0.5 });
    const served = Array.from({ length: 90 }, () => q.shift()!.flow);
    expect(served.filter((f) => f === "half")).toHaveLength(30);
  });

  test("a flow takes the weight of its latest node", () => {
    const q = new FairQueue<N>();
    fill(q, "a", 50, { weight: 1 });
    fill(q, "b", 50, { weight: 1 });
    q.push(node("a", { weight: 3 }));
    const served = Array.from({ length: 40 }, () => q.shift()!.flow);
    expect(served.filter((f) => f === "a")).toHaveLength(30);
  });

  test("an idle flow saves up no credit: it rejoins at the back with nothing", () => {
    const q = new FairQueue<N>();
    fill(q, "a", 10);
    fill(q, "b", 1);
    expect(flows([q.shift()!, q.shift()!])).toBe("ab"); // b emptied: out of the round
    fill(q, "b", 3);
    expect(flows(drain(q))).toBe("abababaaaaaa");
  });

  test("costs in tokens: shares follow cost, not request count", () => {
    const q = new FairQueue<N>({ quantum: 1000 });
    fill(q, "big", 50, { cost: 4000 });
    fill(q, "small", 500, { cost: 500 });
    let big = 0;
    let small = 0;
    for (let i = 0; i < 200; i++) {
      const n = q.shift()!;
      if (n.flow === "big") big += n.cost!;
      else small += n.cost!;
    }
    // Each round both earn 1000; big spends 4000 every 4th round. Over 200 services: equal tokens ± one big request.
    expect(Math.abs(big - small)).toBeLessThanOrEqual(4000);
    expect(big).toBeGreaterThan(0);
  });

  test("a head dearer than many quanta waits the right number of rounds (fast-forward = looping)", () => {
    const q = new FairQueue<N>();
    q.push(node("a", { cost: 1_000_000, id: 1 }));
    q.push(node("b", { cost: 999_999, id: 2 }));
    q.push(node("c", { cost: 1_000_000, weight: 2, id: 3 }));
    // Per round a, b earn 1 and c earns 2: c is ready after 500,000 rounds, b after 999,999, a after 1,000,000.
    expect(ids(q)).toEqual([3, 2, 1]);
    expect(ids(drain(q))).toEqual([3, 2, 1]);
  });
});

describe("FairQueue: priorities", () => {
  test("a higher priority is always served first, whatever the flows", () => {
    const q = new FairQueue<N>();
    fill(q, "a", 3, { priority: 0 });
    fill(q, "b", 2, { priority: 5 });
    fill(q, "c", 2, { priority: 1 });
    fill(q, "a", 1, { priority: 5 });
    expect(drain(q).map((n) => `${n.flow}${n.priority}`)).toEqual(["b5", "a5", "b5", "c1", "c1", "a0", "a0", "a0"]);
  });

  test("a high-priority arrival goes before the rest of a low flow's turn", () => {
    const q = new FairQueue<N>();
    fill(q, "a", 4, { weight: 4 }); // a's turn would serve all four
    expect(q.shift()!.flow).toBe("a");
    q.push(node("vip", { priority: 1 }));
    expect(q.peek()!.flow).toBe("vip");
    expect(flows(drain(q))).toBe("vipaaa");
  });

  test("one key at two priorities is two flows", () => {
    const q = new FairQueue<N>();
    fill(q, "a", 2, { priority: 0 });
    fill(q, "a", 2, { priority: 1 });
    expect(q.flowCount).toBe(2);
    expect(drain(q).map((n) => n.priority)).toEqual([1, 1, 0, 0]);
  });

  test("a cost of 0 or less reads as 1: no flow can be served for free forever", () => {
    const q = new FairQueue<N>();
    fill(q, "free", 5, { cost: 0 });
    fill(q, "neg", 5, { cost: -3 });
    fill(q, "b", 5);
    expect(drain(q).slice(0, 6).map((n) => n.flow)).toEqual(["free", "neg", "b", "free", "neg", "b"]);
  });

  test("missing or non-finite priority reads as 0", () => {
    const q = new FairQueue<N>();
    q.push(node("a", { priority: Number.NaN, id: 1 }));
    q.push(node("b", { id: 2 }));
    q.push(node("c", { priority: -1, id: 3 }));
    q.push(node("d", { priority: 0.5, id: 4 }));
    expect(ids(drain(q))).toEqual([4, 1, 2, 3]);
  });
});

describe("FairQueue: remove", () => {
  test("from the middle of a flow keeps the rest in order", () => {
    const q = new FairQueue<N>();
    const a = fill(q, "a", 5);
    const b = fill(q, "b", 2);
    expect(q.remove(a[2]!)).toBe(true);
    expect(q.size).toBe(6);
    expect(ids(q)).toEqual([a[0], b[0], a[1], b[1], a[3], a[4]].map((n) => n!.id));
    expect(ids(drain(q))).toEqual([a[0], b[0], a[1], b[1], a[3], a[4]].map((n) => n!.id));
  });

  test("the head and the tail of a flow", () => {
    const q = new FairQueue<N>();
    const a = fill(q, "a", 4);
    q.remove(a[0]!);
    q.remove(a[3]!);
    expect(ids(q)).toEqual([a[1]!.id, a[2]!.id]);
    q.push(a[3]!); // the tail pointer was updated
    expect(ids(drain(q))).toEqual([a[1]!.id, a[2]!.id, a[3]!.id]);
  });

  test("the last node of a flow: the flow leaves the round, the others carry on", () => {
    const q = new FairQueue<N>();
    fill(q, "a", 3);
    const [b] = fill(q, "b", 1);
    fill(q, "c", 3);
    expect(q.flowCount).toBe(3);
    q.remove(b!);
    expect(q.flowCount).toBe(2);
    expect(flows([...q])).toBe("acacac");
    expect(flows(drain(q))).toBe("acacac");
    expect(q.flowCount).toBe(0);
  });

  test("the flow holding the turn empties: the next flow takes the turn", () => {
    const q = new FairQueue<N>();
    const a = fill(q, "a", 2, { weight: 2 });
    fill(q, "b", 2);
    expect(q.shift()).toBe(a[0]!); // a's turn, one more to go
    q.remove(a[1]!); // leaves, not served
    expect(q.peek()!.flow).toBe("b");
    expect(flows(drain(q))).toBe("bb");
  });

  test("removing the last node of the last flow of a level drops to the next level", () => {
    const q = new FairQueue<N>();
    const [hi] = fill(q, "x", 1, { priority: 2 });
    fill(q, "y", 1, { priority: 1 });
    q.remove(hi!);
    expect(q.peek()!.flow).toBe("y");
    q.push(node("z", { priority: 2 })); // the level comes back
    expect(q.peek()!.flow).toBe("z");
  });

  test("removing the node peek() returned counts as serving it (the dispatcher's path)", () => {
    const viaShift = new FairQueue<N>();
    const viaRemove = new FairQueue<N>();
    for (const q of [viaShift, viaRemove]) {
      fill(q, "a", 6, { weight: 2 });
      fill(q, "b", 6);
    }
    const a = drain(viaShift).map((n) => n.flow);
    const b: string[] = [];
    for (let h = viaRemove.peek(); h; h = viaRemove.peek()) {
      viaRemove.remove(h);
      b.push(h.flow);
    }
    expect(b).toEqual(a);
    expect(a.join("")).toBe("aabaabaabbbb");
  });

  test("cancelling a waiting node of a flow charges nothing", () => {
    const q = new FairQueue<N>();
    const a = fill(q, "a", 4);
    fill(q, "b", 4);
    expect(q.peek()).toBe(a[0]!);
    q.remove(a[1]!); // not the head: no charge; a still serves its head in this turn
    expect(flows(drain(q))).toBe("abababb");
  });
});

describe("FairQueue: unshift (a retry)", () => {
  test("goes to the front of its flow, and its flow goes next", () => {
    const q = new FairQueue<N>();
    fill(q, "a", 3);
    fill(q, "b", 3);
    fill(q, "c", 3);
    expect(q.shift()!.flow).toBe("a");
    const retry = node("c");
    q.unshift(retry);
    expect(q.peek()).toBe(retry);
    // Then a resumes its turn, but it had spent its quantum: b, c, a take turns as before.
    expect(flows(drain(q))).toBe("cbcabcabc");
  });

  test("the interrupted flow resumes its turn afterwards", () => {
    const q = new FairQueue<N>();
    fill(q, "a", 4, { weight: 2 });
    fill(q, "b", 4);
    expect(q.shift()!.flow).toBe("a"); // a's turn: one more in it
    q.unshift(node("b"));
    // The retry, then a's interrupted turn (its second request), then turns as usual.
    expect(flows(drain(q))).toBe("babaabbb");
  });

  test("into an empty queue, and into a new flow", () => {
    const q = new FairQueue<N>();
    const r = node("r");
    q.unshift(r);
    expect(q.peek()).toBe(r);
    expect(q.size).toBe(1);
    fill(q, "a", 2);
    const s = node("s");
    q.unshift(s);
    expect(ids(q)).toEqual([s.id, r.id, ...[...q].slice(2).map((n) => n.id)]);
    expect(flows(drain(q))).toBe("sraa");
  });

  test("stays behind a higher priority", () => {
    const q = new FairQueue<N>();
    fill(q, "hi", 1, { priority: 1 });
    fill(q, "lo", 1);
    q.unshift(node("retry"));
    expect(flows(drain(q))).toBe("hiretrylo");
  });

  test("a retried request's cost is credited back: the flow is not charged twice", () => {
    const q = new FairQueue<N>();
    fill(q, "a", 5);
    fill(q, "b", 5);
    const first = q.shift()!; // a served...
    expect(first.flow).toBe("a");
    q.unshift(first); // ...and failed upstream: back at the front
    expect(q.shift()).toBe(first);
    expect(flows(drain(q))).toBe("babababab");
  });
});

describe("FairQueue: iteration and size", () => {
  test("iteration is the order of repeated shifts, and changes nothing", () => {
    const q = new FairQueue<N>();
    fill(q, "a", 7, { weight: 2 });
    fill(q, "b", 3, { cost: 2 });
    fill(q, "c", 4, { priority: 1, weight: 0.5 });
    fill(q, "d", 2, { priority: 1 });
    q.shift();
    q.unshift(node("b"));
    const before = ids(q);
    expect(ids(q)).toEqual(before); // twice the same: nothing moved
    expect(ids(drain(q))).toEqual(before);
  });

  test("size follows every operation", () => {
    const q = new FairQueue<N>();
    const ns = [node("a"), node("b"), node("a"), node("c", { priority: 3 })];
    q.push(ns[0]!);
    q.unshift(ns[1]!);
    q.push(ns[2]!);
    q.push(ns[3]!);
    expect(q.size).toBe(4);
    q.remove(ns[0]!);
    expect(q.size).toBe(3);
    q.remove(node("z")); // never queued
    expect(q.size).toBe(3);
    q.shift();
    expect(q.size).toBe(2);
    expect([...q]).toHaveLength(2);
  });
});

describe("FairQueue: aheadOf (requests ahead of a newcomer)", () => {
  test("a single flow: everyone queued", () => {
    const q = new FairQueue<N>();
    fill(q, "a", 7);
    expect(q.aheadOf(node("a"))).toBe(7);
  });

  test("a light key behind a burst: about one, not the whole line", () => {
    const q = new FairQueue<N>();
    fill(q, "burst", 1000);
    expect(q.aheadOf(node("light"))).toBe(1);
    fill(q, "light", 3);
    expect(q.aheadOf(node("light"))).toBe(3 + 4); // its own 3, and the burst's turns meanwhile
    expect(q.aheadOf(node("burst"))).toBe(1000 + 3);
  });

  test("weights and priorities", () => {
    const q = new FairQueue<N>();
    fill(q, "heavy", 100, { weight: 4 });
    fill(q, "vip", 5, { priority: 1 });
    expect(q.aheadOf(node("light"))).toBe(5 + 4);
    expect(q.aheadOf(node("x", { priority: 1 }))).toBe(1);
    expect(q.aheadOf(node("x", { priority: 2 }))).toBe(0);
    expect(q.aheadOf(node("light", { weight: 4 }))).toBe(5 + 4);
    expect(q.aheadOf(node("light", { weight: 0.5 }))).toBe(5 + 8);
  });

  test("within one round of the true position (random lines, unit costs)", () => {
    for (const seed of [21, 22, 23, 24]) {
      const r = prng(seed);
      const q = new FairQueue<N>();
      const weights = new Map<string, number>();
      let worst = 0;
      for (let step = 0; step < 2000; step++) {
        if (r.chance(0.4)) {
          q.shift();
          continue;
        }
        const flow = `f${r.int(0, 6)}`;
        if (!weights.has(flow)) weights.set(flow, r.int(1, 3));
        const probe = node(flow, { weight: weights.get(flow), priority: r.chance(0.9) ? 0 : 1 });
        const estimate = q.aheadOf(probe);
        q.push(probe);
        const exact = ids(q).indexOf(probe.id);
        const round = [...weights.values()].reduce((a, b) => a + b, 0);
        expect(Math.abs(estimate - exact)).toBeLessThanOrEqual(round);
        worst = Math.max(worst, Math.abs(estimate - exact));
      }
      expect(worst).toBeGreaterThan(0); // the check did bite
    }
  });
});

// ---------------------------------------------------------------------------
// Property test: random operations against a reference model written the
// naive way — arrays, linear searches, DRR rounds looped one by one (no
// fast-forward). Both must agree on peek, size, queued flags and the full
// service order after every step.

interface RefFlow {
  key: string;
  weight: number;
  deficit: number;
  granted: boolean;
  nodes: N[];
}

class Reference {
  /** priority → flows in round order (first holds the turn). */
  readonly levels = new Map<number, RefFlow[]>();

  constructor(readonly quantum: number) {}

  get size(): number {
    let n = 0;
    for (const fs of this.levels.values()) for (const f of fs) n += f.nodes.length;
    return n;
  }

  private round(n: N): RefFlow[] {
    const p = n.priority ?? 0;
    if (!this.levels.has(p)) this.levels.set(p, []);
    return this.levels.get(p)!;
  }

  push(n: N): void {
    const round = this.round(n);
    let f = round.find((x) => x.key === n.flow);
    if (!f) round.push((f = { key: n.flow, weight: 1, deficit: 0, granted: false, nodes: [] }));
    f.weight = n.weight ?? 1;
    f.nodes.push(n);
  }

  unshift(n: N): void {
    const round = this.round(n);
    let f = round.find((x) => x.key === n.flow);
    if (f) round.splice(round.indexOf(f), 1);
    else f = { key: n.flow, weight: 1, deficit: 0, granted: false, nodes: [] };
    round.unshift(f);
    f.weight = n.weight ?? 1;
    f.granted = true;
    f.deficit += n.cost ?? 1;
    f.nodes.unshift(n);
  }

  remove(n: N): boolean {
    for (const [p, round] of this.levels) {
      for (const f of round) {
        const i = f.nodes.indexOf(n);
        if (i < 0) continue;
        const cost = n.cost ?? 1;
        if (round[0] === f && f.granted && i === 0 && cost <= f.deficit) f.deficit -= cost;
        f.nodes.splice(i, 1);
        if (f.nodes.length === 0) round.splice(round.indexOf(f), 1);
        if (round.length === 0) this.levels.delete(p);
        return true;
      }
    }
    return false;
  }

  peek(): N | null {
    const top = Math.max(...this.levels.keys());
    const round = this.levels.get(top);
    if (!round) return null;
    for (;;) {
      const f = round[0]!;
      if (!f.granted) {
        f.deficit += this.quantum * f.weight;
        f.granted = true;
      }
      if ((f.nodes[0]!.cost ?? 1) <= f.deficit) return f.nodes[0]!;
      f.granted = false;
      if (round.length > 1) round.push(round.shift()!);
    }
  }

  shift(): N | null {
    const n = this.peek();
    if (n) this.remove(n);
    return n;
  }

  /** The service order, from a deep copy. */
  order(): N[] {
    const copy = new Reference(this.quantum);
    for (const [p, round] of this.levels) copy.levels.set(p, round.map((f) => ({ ...f, nodes: [...f.nodes] })));
    const out: N[] = [];
    for (let n = copy.shift(); n; n = copy.shift()) out.push(n);
    return out;
  }
}

describe("FairQueue: property test against a naive reference", () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    test(`seed ${seed}: 3,000 random operations`, () => {
      const r = prng(seed);
      const quantum = [1, 1, 2, 0.5][seed % 4]!;
      const q = new FairQueue<N>({ quantum });
      const ref = new Reference(quantum);
      const all: N[] = [];
      const pick = <X>(xs: readonly X[]): X => xs[r.int(0, xs.length - 1)]!;
      const fresh = (): N => {
        const n = node(pick(["a", "b", "c", "d", "e"]), {
          weight: pick([undefined, 1, 2, 0.5, 3]),
          priority: r.chance(0.8) ? undefined : pick([0, 1, 2]),
          cost: pick([undefined, 1, 1, 2, 3, 0.5]),
        });
        all.push(n);
        return n;
      };
      for (let step = 0; step < 3000; step++) {
        const op = r.next();
        if (op < 0.35) {
          const n = fresh();
          q.push(n);
          ref.push(n);
        } else if (op < 0.42) {
          const n = fresh();
          q.unshift(n);
          ref.unshift(n);
        } else if (op < 0.62) {
          const n = all.length ? pick(all) : fresh(); // queued or not
          expect(q.remove(n)).toBe(ref.remove(n));
        } else if (op < 0.85) {
          expect(q.shift()).toBe(ref.shift());
        } else {
          expect(q.peek()).toBe(ref.peek());
        }
        expect(q.size).toBe(ref.size);
        if (step % 25 === 0) {
          const order = ref.order();
          expect(ids(q)).toEqual(order.map((n) => n.id));
          const queued = new Set(order);
          expect(all.every((n) => n.queued === queued.has(n))).toBe(true);
        }
      }
      expect(ids(drain(q))).toEqual(ref.order().map((n) => n.id));
    });
  }
});
